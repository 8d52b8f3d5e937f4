"""/api/v1/seal (pdf-seal-api.txt)."""

from notarium.http.families.pdf_seal import routes
from notarium.http.family import Family

FAMILY = Family(
    "pdf_seal",
    routers=(routes.router,),
    prefixes=(routes.PATH,),
    large_bodies={routes.PATH: routes.MAX_UPLOAD},
)
