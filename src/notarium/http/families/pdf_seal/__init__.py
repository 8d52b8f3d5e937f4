"""/api/v1/seal (pdf-seal-api.txt): the route and its error table."""

from notarium.http.families.pdf_seal import routes
from notarium.http.families.pdf_seal.errors import ERRORS
from notarium.http.family import Family

FAMILY = Family(
    "pdf_seal",
    routers=(routes.router,),
    prefixes=(routes.PATH,),
    errors=ERRORS,
    large_bodies={routes.PATH: routes.MAX_UPLOAD},
)
