"""/api/v1/certificates (web-capture-certificates-api.txt)."""

from notarium.http.families.web_capture import errors, routes
from notarium.http.families.web_capture.present import PREFIX
from notarium.http.family import Family

FAMILY = Family(
    "web_capture",
    routers=(routes.router, routes.files),
    envelope=errors.envelope,
    errors=errors.ERRORS,
    prefixes=(PREFIX, "/api/v1/coverage", "/files/captures/"),
)
