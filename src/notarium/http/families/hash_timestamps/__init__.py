"""/api/v1/timestamps (hash-timestamps-api.txt): routes, request schemas, presenters
and the error table of the hash timestamps document."""

from notarium.http.families.hash_timestamps.errors import ERRORS
from notarium.http.families.hash_timestamps.routes import router
from notarium.http.family import Family

FAMILY = Family("hash_timestamps", routers=(router,), prefixes=("/api/v1/",), errors=ERRORS)
