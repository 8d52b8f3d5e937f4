"""/api/l402 (l402-pay-per-request-api.txt)."""

from notarium.http.families.l402 import routes
from notarium.http.families.l402.errors import ERRORS, l402_envelope
from notarium.http.family import Family

FAMILY = Family(
    "l402",
    routers=(routes.router,),
    envelope=l402_envelope,
    prefixes=(routes.PATH,),
    errors=ERRORS,
    large_bodies={routes.PATH: routes.MAX_BODY},
)
