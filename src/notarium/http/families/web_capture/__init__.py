"""/api/v1/certificates (web-capture-certificates-api.txt)."""

from notarium.http.families.web_capture import routes
from notarium.http.family import Family

FAMILY = Family(
    "web_capture",
    routers=(routes.router, routes.files),
    envelope=routes.family_envelope,
    prefixes=(routes.PREFIX, "/api/v1/coverage", "/files/captures/"),
)
