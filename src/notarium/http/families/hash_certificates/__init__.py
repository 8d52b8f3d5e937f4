"""/v1/certificates, /v1/verify, /v1/webhooks (hash-certificates-webhooks-api.txt)."""

from notarium.http.families.hash_certificates import routes, webhook_events, webhooks
from notarium.http.family import Family

FAMILY = Family(
    "hash_certificates",
    routers=(routes.router, webhooks.router),
    envelope=routes.family_envelope,
    prefixes=("/v1/",),
    webhooks=(webhook_events.router,),
)
