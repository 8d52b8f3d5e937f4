"""The answer every route family gives a domain error unless its own table says
otherwise: one entry per exception class, looked up along the class's MRO.

``Wire`` is how one error goes out. Until wire codes leave the domain errors, a ``Wire``
without a ``code`` answers with the exception's own ``code`` attribute."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

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
from notarium.http.middleware import PayloadTooLarge
from notarium.ledger.idempotency.service import IdempotencyMismatch
from notarium.products.pdf_seal.errors import NotAPdfError, PdfTooLargeError


@dataclass(frozen=True)
class Wire:
    """Status, code, extra response headers, and extra top-level fields of the error
    body (merged into the envelope's JSON object)."""

    status: int
    code: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, object] = field(default_factory=dict)


#: A table entry: a fixed answer, or one computed from the exception (headers that
#: carry its numbers, a status it holds).
Entry = Wire | Callable[[BaseException], Wire]

INTERNAL_ERROR = "INTERNAL_ERROR"

HTTP_CODES: Mapping[int, str] = MappingProxyType(
    {
        400: "BAD_REQUEST",
        401: "AUTHENTICATION_REQUIRED",
        404: "NOT_FOUND",
        405: "METHOD_NOT_ALLOWED",
        406: "NOT_ACCEPTABLE",
        413: "PAYLOAD_TOO_LARGE",
        415: "UNSUPPORTED_MEDIA_TYPE",
    }
)


def _rate_limited(error: BaseException) -> Wire:
    assert isinstance(error, RateLimitedError)
    return Wire(
        429,
        headers={
            "Retry-After": str(error.retry_after),
            "X-RateLimit-Limit": str(error.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(error.reset_at)),
        },
    )


def _quota(_error: BaseException) -> Wire:
    return Wire(429, headers={"Retry-After": str(_seconds_to_next_month())})


def _seconds_to_next_month() -> int:
    now = datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return max(1, int((datetime(year, month, 1, tzinfo=UTC) - now).total_seconds()))


def _http(error: BaseException) -> Wire:
    assert isinstance(error, HTTPException)
    return Wire(
        error.status_code,
        HTTP_CODES.get(error.status_code, "HTTP_ERROR"),
        headers=dict(error.headers or {}),
    )


DEFAULT: Mapping[type[BaseException], Entry] = MappingProxyType(
    {
        ValidationError: Wire(400),
        PayloadTooLarge: Wire(413),
        PdfTooLargeError: Wire(413),
        NotAPdfError: Wire(415),
        IdempotencyMismatch: Wire(422),
        AuthenticationError: Wire(401, headers={"WWW-Authenticate": 'Bearer realm="notarium"'}),
        PermissionDeniedError: Wire(403),
        NotFoundError: Wire(404),
        ConflictError: Wire(409),
        RateLimitedError: _rate_limited,
        QuotaExceededError: _quota,
        NotariumError: Wire(500),
        HTTPException: _http,
        RequestValidationError: Wire(400, "INVALID_REQUEST"),
        Exception: Wire(500, INTERNAL_ERROR),
    }
)
