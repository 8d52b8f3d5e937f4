"""The webhook deliveries, described as OpenAPI 3.1 ``webhooks``: one per event type,
with the body and the signature headers every delivery carries. Documentation only;
nothing here is served."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from notarium.formats.webhook_signature import (
    BODY_SIGNATURE_HEADER,
    DOCUMENT_SIGNATURE_HEADER,
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
)
from notarium.http.families.hash_certificates.webhook_schemas import CertificateEvent
from notarium.ledger.events import ANCHORING, CONFIRMED, CREATED, FAILED

router = APIRouter(tags=["webhooks"])

WHEN = {
    CREATED: "Certificate recorded, RFC 3161 timestamp issued",
    ANCHORING: "Bitcoin anchoring in progress",
    CONFIRMED: "Bitcoin block confirmed — proof is final",
    FAILED: "Anchoring failed after retries",
}

HMAC_HEX = (
    "Lower-case hex HMAC-SHA256 of the raw request body, keyed with the endpoint's secret "
    "exactly as shown (the `whsec_…` text). Verify it before processing."
)


def _receiver(
    payload: CertificateEvent,
    x_provelio_signature: Annotated[
        str, Header(alias=DOCUMENT_SIGNATURE_HEADER, description=HMAC_HEX)
    ],
    x_notarium_signature: Annotated[
        str, Header(alias=BODY_SIGNATURE_HEADER, description=f"The same value. {HMAC_HEX}")
    ],
    webhook_id: Annotated[
        str,
        Header(
            alias=ID_HEADER,
            description="Standard Webhooks message id: the same on every retry of one event",
        ),
    ],
    webhook_timestamp: Annotated[
        str, Header(alias=TIMESTAMP_HEADER, description="Unix seconds of this attempt")
    ],
    webhook_signature: Annotated[
        str,
        Header(
            alias=SIGNATURE_HEADER,
            description=(
                "Space-separated Standard Webhooks signatures over "
                "`{webhook-id}.{webhook-timestamp}.{body}`: `v1,<base64 HMAC-SHA256>` keyed "
                "with the base64-decoded secret (one per valid secret during a rotation), "
                "then `v1a,<base64 Ed25519>` made with the service key published at "
                "`GET /v1/webhooks/signing-key`"
            ),
        ),
    ],
) -> None:
    """Never called: its signature is the delivery's description."""


for _event, _when in WHEN.items():
    router.add_api_route(
        _event,
        _receiver,
        methods=["POST"],
        name=_event,
        operation_id=f"webhook_{_event.replace('.', '_')}",
        summary=_when,
        description=(
            f"Sent to every active endpoint subscribed to `{_event}`, in the mode of the "
            f"certificate, with `event` = `{_event}`. Answer 2xx to acknowledge; 410 switches "
            "the endpoint off; anything else is retried for about three days."
        ),
        status_code=200,
        responses={
            200: {"description": "Any 2xx acknowledges the delivery"},
            410: {"description": "Gone: the endpoint is switched off"},
        },
    )
