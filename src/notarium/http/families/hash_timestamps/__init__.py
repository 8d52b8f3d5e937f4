"""/api/v1/timestamps (hash-timestamps-api.txt)."""

from notarium.http.families.hash_timestamps.routes import router
from notarium.http.family import Family

FAMILY = Family("hash_timestamps", routers=(router,), prefixes=("/api/v1/",))
