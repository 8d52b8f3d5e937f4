"""The L402 family's error table and envelope: the document's statuses, lower snake
case codes, ``success`` and ``http_code`` in every body, and the headers that tell a
client what to do next."""

from __future__ import annotations

import json

import pytest

from notarium.adapters.lightning.ports import LightningUnavailable
from notarium.adapters.scanning.ports import ScannerUnavailable
from notarium.core.errors import NotariumError, RateLimitedError
from notarium.formats.uploads.errors import FileTooLarge, UnsupportedFileType
from notarium.http.families.l402 import FAMILY
from notarium.http.families.l402.errors import ERRORS, INTERNAL, l402_envelope
from notarium.http.middleware import PayloadTooLarge
from notarium.products.l402.errors import (
    FileUploadsUnavailable,
    InvalidPreimage,
    MissingHash,
    RequestInProgress,
    TimestampNotFound,
    TokenMismatch,
)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (MissingHash("no hash"), 400, "missing_hash"),
        (UnsupportedFileType("no"), 400, "unsupported_file_type"),
        (TimestampNotFound("none"), 404, "timestamp_not_found"),
        (RequestInProgress("busy"), 409, "request_in_progress"),
        (PayloadTooLarge("big"), 413, "file_too_large"),
        (FileTooLarge("big", size=2, limit=1), 413, "file_too_large"),
        (FileUploadsUnavailable("no scanner"), 503, "file_uploads_unavailable"),
        (NotariumError("broken"), 500, "server_error"),
        (RuntimeError("bug"), 500, "server_error"),
    ],
)
def test_status_and_code(error: Exception, status: int, code: str) -> None:
    wire = ERRORS.lookup(error)
    assert (wire.status, wire.code) == (status, code)


@pytest.mark.parametrize("error", [InvalidPreimage("no"), TokenMismatch("other request")])
def test_a_refused_credential_names_its_reason_in_the_challenge(error: Exception) -> None:
    wire = ERRORS.lookup(error)
    code = getattr(error, "code", "")
    assert wire.status == 401 and wire.code == code
    assert wire.headers["WWW-Authenticate"] == f'L402 error="{code}"'


@pytest.mark.parametrize(
    "error", [LightningUnavailable("node down"), ScannerUnavailable("scanner down")]
)
def test_an_unreachable_backend_is_a_retryable_502(error: Exception) -> None:
    wire = ERRORS.lookup(error)
    assert (wire.status, wire.code, dict(wire.headers)) == (
        502,
        "backend_unavailable",
        {"Retry-After": "5"},
    )


def test_rate_limited_carries_the_bucket_in_its_headers() -> None:
    error = RateLimitedError("slow down", limit=5, remaining=0, reset_at=1.5e9, retry_after=7)
    wire = ERRORS.lookup(error)
    assert (wire.status, wire.code) == (429, "rate_limited")
    assert wire.headers["Retry-After"] == "7" and wire.headers["X-RateLimit-Limit"] == "5"


def test_the_envelope() -> None:
    def body(status: int, code: str, message: str) -> dict[str, object]:
        response = l402_envelope(status, code, message, "req_1")
        assert response.status_code == status
        decoded: dict[str, object] = json.loads(bytes(response.body))
        return decoded

    assert body(405, "METHOD_NOT_ALLOWED", "no") == {
        "success": False,
        "http_code": 405,
        "error": "method_not_allowed",
        "message": "no",
        "request_id": "req_1",
    }
    assert body(502, "backend_unavailable", "The node is down.")["message"] == (
        "The node is down. Retry in a moment."
    )
    # What failed inside stays in the log.
    assert body(500, "server_error", "secret detail")["message"] == INTERNAL


def test_the_family_answers_with_its_table() -> None:
    assert FAMILY.errors is ERRORS and FAMILY.envelope is l402_envelope
    assert not FAMILY.errors.legacy
