"""How the L402 endpoint's errors go out, as its document gives them: ``success``,
``http_code``, a lower snake case ``error`` code and a message in every body; a 401
names its reason in ``WWW-Authenticate``; a node or scanner that does not answer is a
retryable 502."""

from __future__ import annotations

from dataclasses import replace

from fastapi.responses import JSONResponse, Response

from notarium.adapters.lightning.ports import LightningUnavailable
from notarium.adapters.scanning.ports import ScannerUnavailable
from notarium.core.errors import AuthenticationError, NotariumError, RateLimitedError
from notarium.core.hashing.sha256 import InvalidSha256Error
from notarium.formats.uploads.errors import FileTooLarge
from notarium.http.error_codes import DEFAULT, Wire
from notarium.http.family import ErrorMap
from notarium.http.middleware import PayloadTooLarge
from notarium.products.l402.errors import FileUploadsUnavailable

INTERNAL = "Internal error; try again, quoting the request_id if it persists."
SERVER_ERROR = "server_error"


def l402_envelope(status: int, code: str, message: str, request_id: str) -> Response:
    if status == 500:
        message = INTERNAL
    elif status == 502:
        message = f"{message} Retry in a moment."
    return JSONResponse(
        {
            "success": False,
            "http_code": status,
            # Shared errors (an upload refused, a method not allowed) carry notarium's
            # upper case codes; the document's are lower case.
            "error": code.lower(),
            "message": message,
            "request_id": request_id,
        },
        status_code=status,
    )


def _code(error: BaseException) -> str:
    code = getattr(error, "code", None)
    return code.lower() if isinstance(code, str) else SERVER_ERROR


def _credential(error: BaseException) -> Wire:
    code = _code(error)
    return Wire(401, code, headers={"WWW-Authenticate": f'L402 error="{code}"'})


def _rate_limited(error: BaseException) -> Wire:
    entry = DEFAULT[RateLimitedError]
    wire = entry(error) if callable(entry) else entry
    return replace(wire, code="rate_limited")


_UNAVAILABLE = Wire(502, "backend_unavailable", headers={"Retry-After": "5"})

ERRORS = ErrorMap(
    {
        PayloadTooLarge: Wire(413, "file_too_large"),
        FileTooLarge: Wire(413),
        InvalidSha256Error: Wire(400, "invalid_hash"),
        RateLimitedError: _rate_limited,
        AuthenticationError: _credential,
        LightningUnavailable: _UNAVAILABLE,
        ScannerUnavailable: _UNAVAILABLE,
        FileUploadsUnavailable: Wire(503),
        NotariumError: Wire(500, SERVER_ERROR),
        Exception: Wire(500, SERVER_ERROR),
    }
)
