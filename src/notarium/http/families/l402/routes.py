"""The L402 endpoint (``POST /api/l402``), as ``l402-pay-per-request-api.txt`` describes
it: one URL, the ``action`` field chooses the operation, ``success`` and ``http_code`` in
every error, a 402 with an invoice and a macaroon for the paid actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from notarium.adapters.ratelimit.limiter import Bucket
from notarium.core.errors import ValidationError
from notarium.http.deps import L402, client_ip, limiter_of, record_rate
from notarium.http.errors import request_id_of
from notarium.http.families.l402 import present
from notarium.http.families.l402.schemas import (
    L402ErrorAnswer,
    PaymentRequiredAnswer,
    StatusAnswer,
    TimestampAnswer,
    UpdateAnswer,
    VerifyAnswer,
    parse_request,
    request_body_schema,
)
from notarium.http.formats import parse_json_object
from notarium.products.l402.headers import SCHEMES, Credential, parse_authorization
from notarium.products.l402.requests import (
    STATUS,
    TIMESTAMP,
    UPDATE,
    VERIFY,
    ActionRequest,
    FileTimestamp,
    HashTimestamp,
)

router = APIRouter(tags=["l402"])

PATH = "/api/l402"
MAX_FILE = 10 * 1024 * 1024
# The file in base64 (4 characters per 3 bytes) and the other fields.
MAX_BODY = 4 * -(-MAX_FILE // 3) + 64 * 1024

# The document's per-IP limits. Paid retries are not in them (a payment limits those),
# but get a generous bucket of their own, since each may cost the node a lookup.
TIMESTAMP_CHALLENGES = Bucket("l402-timestamp", 5)
FILE_CHALLENGES = Bucket("l402-file", 5)
VERIFIES = Bucket("l402-verify", 10)
STATUSES = Bucket("l402-status", 10)
UPDATES = Bucket("l402-update", 10)
PAID = Bucket("l402-paid", 60)
MALFORMED = Bucket("l402-malformed", 10)

# Unstorable text (NUL, a lone surrogate) in a field is that field's error.
FIELD_CODES = {
    "action": "invalid_action",
    "hash": "invalid_hash",
    "file_data": "invalid_file_data",
    "filename": "invalid_filename",
    "webhook_url": "invalid_webhook_url",
    "notification_email": "invalid_notification_email",
    "timestamp_id": "invalid_timestamp_id",
}


@dataclass(frozen=True)
class L402Call:
    """What a request asks for, and the credential it pays with (paid actions only)."""

    action: ActionRequest
    credential: Credential | None


BucketChoice = Callable[[ActionRequest, bool], Bucket]
"""``(action, carries a credential) -> the per-IP bucket it is charged to``."""


def _bucket(action: ActionRequest, has_credential: bool) -> Bucket:
    if isinstance(action, HashTimestamp | FileTimestamp):
        if has_credential:
            return PAID
        return FILE_CHALLENGES if isinstance(action, FileTimestamp) else TIMESTAMP_CHALLENGES
    return {VERIFY: VERIFIES, STATUS: STATUSES, UPDATE: UPDATES}[action.action]


async def request_body(request: Request) -> bytes:
    # Read on the event loop; the body cap of ``large_bodies`` applies while it streams.
    return await request.body()


def per_ip(choose: BucketChoice, *, malformed: Bucket) -> Callable[[Request, bytes], L402Call]:
    """A dependency reading the call from the body and charging the client's address the
    bucket ``choose`` names for it; requests that cannot be read share ``malformed``,
    whatever they claim to be."""

    def dependency(request: Request, body: Annotated[bytes, Depends(request_body)]) -> L402Call:
        limiter = limiter_of(request)
        ip = client_ip(request)
        authorizations = request.headers.getlist("authorization")
        try:
            payload = parse_json_object(body, code="invalid_request", field_codes=FIELD_CODES)
            action = parse_request(payload)
        except ValidationError:
            record_rate(request, limiter.hit(malformed, ip))
            raise
        has_credential = any(
            value.strip().partition(" ")[0].lower() in SCHEMES for value in authorizations
        )
        record_rate(request, limiter.hit(choose(action, has_credential), ip))
        # Only the paid actions read credentials; the free ones ignore any.
        paid = action.action in (TIMESTAMP, UPDATE)
        return L402Call(action, parse_authorization(authorizations) if paid else None)

    return dependency


Call = Annotated[L402Call, Depends(per_ip(_bucket, malformed=MALFORMED))]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {
        400: "Invalid input: invalid_hash, missing_hash, invalid_action, a refused file "
        "(unsupported_file_type, file_type_mismatch, empty_file, malware_detected), ...",
        401: "The L402 credential does not prove payment for this request",
        404: "No such timestamp (status, update)",
        409: "The same paid request is being carried out right now",
        413: "The file exceeds 10 MB",
        429: "Rate limited (per IP)",
        500: "Internal error",
        502: "The Lightning node or the malware scanner is unavailable; retry",
        503: "File uploads need a malware scanner and none is configured",
    }
    retry = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait"}}
    www = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "L402 error"}}
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": L402ErrorAnswer, "description": text[status]}
        if status in (429, 502):
            entry["headers"] = retry
        if status == 401:
            entry["headers"] = www
        out[status] = entry
    return out


@router.post(
    PATH,
    response_model=None,
    responses={
        200: {
            "model": TimestampAnswer | VerifyAnswer | StatusAnswer | UpdateAnswer,
            "description": "The action's answer: a paid timestamp or update, a verification, "
            "a status",
        },
        402: {
            "model": PaymentRequiredAnswer,
            "description": "Payment required: pay the invoice, then retry with "
            "`Authorization: L402 <macaroon>:<preimage>`",
            "headers": {
                "WWW-Authenticate": {
                    "schema": {"type": "string"},
                    "required": True,
                    "description": 'L402 version="0", token="<macaroon>", '
                    'macaroon="<macaroon>", invoice="<BOLT11>"',
                }
            },
        },
        **_errors(400, 401, 404, 409, 413, 429, 500, 502, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": request_body_schema()}},
        }
    },
    summary="Pay-per-request timestamps over L402: timestamp, verify, status, update",
)
def l402(request: Request, call: Call, service: L402) -> Response:
    return present.response(service.handle(call.action, call.credential), request_id_of(request))
