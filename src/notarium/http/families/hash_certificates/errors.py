"""The hash certificates document's errors: ``{"error": {"code", "message",
"requestId"}}`` with lower snake case codes, the shared ones renamed to the document's
vocabulary. ``/v1/webhooks`` answers in the same envelope: same document, same family."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response

from notarium.core.errors import AuthenticationError, QuotaExceededError
from notarium.core.hashing.sha256 import InvalidSha256Error
from notarium.http.error_codes import Wire
from notarium.http.family import LEGACY, ErrorMap
from notarium.ledger.records.errors import DuplicateRecord, RecordNotFound


def envelope(status: int, code: str, message: str, request_id: str) -> Response:
    return JSONResponse(
        {"error": {"code": code.lower(), "message": message, "requestId": request_id}},
        status_code=status,
    )


def _authentication(error: BaseException) -> Wire:
    wire = LEGACY.lookup(error)
    # No credentials at all is the document's `missing_api_key`; a bad one keeps its code.
    if wire.code == "AUTHENTICATION_REQUIRED":
        return Wire(wire.status, "missing_api_key", wire.headers)
    return wire


def _quota(error: BaseException) -> Wire:
    wire = LEGACY.lookup(error)
    return Wire(wire.status, "quota_exceeded", wire.headers)


ERRORS = ErrorMap(
    {
        AuthenticationError: _authentication,
        InvalidSha256Error: Wire(400, "invalid_hash"),
        RecordNotFound: Wire(404, "certificate_not_found"),
        DuplicateRecord: Wire(409, "duplicate_certificate"),
        QuotaExceededError: _quota,
    }
)
