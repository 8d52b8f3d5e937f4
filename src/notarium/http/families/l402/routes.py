"""The L402 endpoint (``POST /api/l402``), as ``l402-pay-per-request-api.txt`` describes
it: one URL, the ``action`` field chooses the operation, ``success`` and ``http_code`` in
every error, a 402 with an invoice and a macaroon for the paid actions."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from notarium.adapters.lightning.ports import LightningUnavailable
from notarium.adapters.ratelimit.limiter import Bucket
from notarium.adapters.scanning.ports import ScannerUnavailable
from notarium.core.errors import (
    AuthenticationError,
    ConflictError,
    NotariumError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from notarium.http.deps import client_ip, limiter_of, record_rate
from notarium.http.errors import register_envelope, request_id_of
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
from notarium.http.middleware import PayloadTooLarge
from notarium.products.l402.errors import FileUploadsUnavailable
from notarium.products.l402.headers import SCHEMES, parse_authorization
from notarium.products.l402.requests import (
    STATUS,
    TIMESTAMP,
    UPDATE,
    VERIFY,
    ActionRequest,
    FileTimestamp,
    HashTimestamp,
)
from notarium.products.l402.service import L402Service

log = logging.getLogger("notarium.http")

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

_CODES = {
    "INVALID_SHA256_HASH": "invalid_hash",
    "INVALID_JSON": "invalid_request",
    "INVALID_REQUEST": "invalid_request",
    "RATE_LIMITED": "rate_limited",
    "PAYLOAD_TOO_LARGE": "file_too_large",
}


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


def _code(status: int, code: str) -> str:
    if status == 500:
        return "server_error"
    if status == 502:
        return "backend_unavailable"
    return _CODES.get(code, code.lower())


def l402_envelope(status: int, code: str, message: str, request_id: str) -> Response:
    return JSONResponse(
        {
            "success": False,
            "http_code": status,
            "error": _code(status, code),
            "message": message,
            "request_id": request_id,
        },
        status_code=status,
    )


register_envelope(PATH, l402_envelope)


def status_of(error: NotariumError) -> int:
    if isinstance(error, PayloadTooLarge) or error.code == "file_too_large":
        return 413
    if isinstance(error, RateLimitedError):
        return 429
    if isinstance(error, ValidationError):
        return 400
    if isinstance(error, AuthenticationError):
        return 401
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, LightningUnavailable | ScannerUnavailable):
        return 502
    if isinstance(error, FileUploadsUnavailable):
        return 503
    return 500


def _error(request: Request, error: NotariumError) -> Response:
    status = status_of(error)
    message = error.message
    if status == 500:
        log.error("L402 request failed: %s %s", error.code, error.message, exc_info=error)
        message = "Internal error; try again, quoting the request_id if it persists."
    elif status == 502:
        message = f"{error.message} Retry in a moment."
    response = l402_envelope(status, error.code, message, request_id_of(request))
    if isinstance(error, RateLimitedError):
        response.headers["Retry-After"] = str(error.retry_after)
        response.headers["X-RateLimit-Limit"] = str(error.limit)
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset"] = str(int(error.reset_at))
    elif status == 401:
        response.headers["WWW-Authenticate"] = f'L402 error="{_code(401, error.code)}"'
    elif status == 502:
        response.headers["Retry-After"] = "5"
    return response


def _bucket(action: ActionRequest, has_credential: bool) -> Bucket:
    if isinstance(action, HashTimestamp | FileTimestamp):
        if has_credential:
            return PAID
        return FILE_CHALLENGES if isinstance(action, FileTimestamp) else TIMESTAMP_CHALLENGES
    return {VERIFY: VERIFIES, STATUS: STATUSES, UPDATE: UPDATES}[action.action]


def _handle(service: L402Service, request: Request, body: bytes) -> Response:
    limiter = limiter_of(request)
    ip = client_ip(request)
    try:
        authorizations = request.headers.getlist("authorization")
        has_credential = any(
            value.strip().partition(" ")[0].lower() in SCHEMES for value in authorizations
        )
        try:
            action = parse_request(parse_json_object(body, field_codes=FIELD_CODES))
        except ValidationError:
            # Malformed requests share one small bucket, whatever they claim to be.
            record_rate(request, limiter.hit(MALFORMED, ip))
            raise
        record_rate(request, limiter.hit(_bucket(action, has_credential), ip))
        # Only the paid actions read credentials; the free ones ignore any.
        paid = action.action in (TIMESTAMP, UPDATE)
        credential = parse_authorization(authorizations) if paid else None
        result = service.handle(action, credential)
    except NotariumError as error:
        return _error(request, error)
    return present.response(result, request_id_of(request))


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
async def l402(request: Request) -> Response:
    service: L402Service = request.app.state.l402
    try:
        body = await request.body()
    except NotariumError as error:
        return _error(request, error)
    return await run_in_threadpool(_handle, service, request, body)
