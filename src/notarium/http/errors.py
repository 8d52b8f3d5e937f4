"""Maps domain errors to status codes and to each route family's error envelope."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from notarium.core.errors import (
    AuthenticationError,
    ConflictError,
    NotariumError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitedError,
    ValidationError,
)
from notarium.http.allow import AllowTable
from notarium.http.middleware import PayloadTooLarge
from notarium.ledger.idempotency.service import IdempotencyMismatch

log = logging.getLogger("notarium.http")

Envelope = Callable[[int, str, str, str], Response]


def standard_envelope(status: int, code: str, message: str, request_id: str) -> Response:
    """``{"error": {"code", "message", "request_id"}}``: the timestamps document's shape,
    also used by the admin, public and TSA routes."""
    return JSONResponse(
        {"error": {"code": code, "message": message, "request_id": request_id}},
        status_code=status,
    )


# Route families register their own envelope by path prefix; the longest prefix wins.
ENVELOPES: list[tuple[str, Envelope]] = []


def register_envelope(prefix: str, envelope: Envelope) -> None:
    ENVELOPES.append((prefix, envelope))
    ENVELOPES.sort(key=lambda item: len(item[0]), reverse=True)


def envelope_for(path: str) -> Envelope:
    for prefix, envelope in ENVELOPES:
        if path.startswith(prefix):
            return envelope
    return standard_envelope


def status_for(error: NotariumError) -> int:
    if isinstance(error, PayloadTooLarge) or error.code == "PDF_TOO_LARGE":
        return 413
    if error.code == "NOT_A_PDF":
        return 415
    if isinstance(error, IdempotencyMismatch):
        return 422
    if isinstance(error, ValidationError):
        return 400
    if isinstance(error, AuthenticationError):
        return 401
    if isinstance(error, PermissionDeniedError):
        return 403
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, RateLimitedError | QuotaExceededError):
        return 429
    return 500


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", "req_unknown"))


def error_response(request: Request, error: NotariumError) -> Response:
    status = status_for(error)
    if status == 500:
        log.error("domain error %s: %s", error.code, error.message, exc_info=error)
    response = envelope_for(request.url.path)(
        status, error.code, error.message, request_id_of(request)
    )
    if isinstance(error, RateLimitedError):
        response.headers["Retry-After"] = str(error.retry_after)
        response.headers["X-RateLimit-Limit"] = str(error.limit)
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset"] = str(int(error.reset_at))
    elif isinstance(error, QuotaExceededError):
        response.headers["Retry-After"] = str(_seconds_to_next_month())
    elif isinstance(error, AuthenticationError):
        response.headers["WWW-Authenticate"] = 'Bearer realm="notarium"'
    return response


def _seconds_to_next_month() -> int:
    now = datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return max(1, int((datetime(year, month, 1, tzinfo=UTC) - now).total_seconds()))


_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "AUTHENTICATION_REQUIRED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotariumError)
    async def _domain(request: Request, error: NotariumError) -> Response:
        return error_response(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(error.status_code, "HTTP_ERROR")
        message = str(error.detail) if error.detail else code.replace("_", " ").lower()
        response = envelope_for(request.url.path)(
            error.status_code, code, message, request_id_of(request)
        )
        if error.headers:
            response.headers.update(error.headers)
        allow = getattr(request.app.state, "allow", None)
        if error.status_code == 405 and isinstance(allow, AllowTable):
            response.headers["Allow"] = ", ".join(allow.methods_for(request.url.path))
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        return envelope_for(request.url.path)(
            400, "INVALID_REQUEST", message, request_id_of(request)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = envelope_for(request.url.path)(
            500,
            "INTERNAL_ERROR",
            "The service failed while handling the request; quote the request_id to support.",
            request_id_of(request),
        )
        # This handler runs outside the request middleware, which cannot add the header.
        response.headers["X-Request-Id"] = request_id_of(request)
        return response
