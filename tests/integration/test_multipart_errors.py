"""Multipart bodies that cannot be read as the upload contract says, on both routes
that take one (``/api/v1/seal`` and ``/api/v1/verify/pdf``): malformed or missing
boundaries, bodies cut short, parts without a disposition, a text part where the file
belongs, too many parts. Each is a 400 ``INVALID_UPLOAD`` (``FILE_COUNT`` when the
parts are readable but the file is missing or not alone) in the standard envelope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from fakes.broken_pdfs import valid
from notarium.app.settings import Settings

ROUTES = ("/api/v1/seal", "/api/v1/verify/pdf")
BOUNDARY = "notarium-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
CLOSE = f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limits_enabled": False})


def part(
    name: str | None, data: bytes, filename: str | None = None, content_type: str | None = None
) -> bytes:
    headers = b""
    if name is not None:
        headers += f'Content-Disposition: form-data; name="{name}"'.encode()
        if filename is not None:
            headers += f'; filename="{filename}"'.encode()
        headers += b"\r\n"
    if content_type is not None:
        headers += f"Content-Type: {content_type}\r\n".encode()
    return f"--{BOUNDARY}\r\n".encode() + headers + b"\r\n" + data + b"\r\n"


FILE = part("file", valid(), "contract.pdf", "application/pdf")

CASES: list[tuple[str, str | None, bytes, str]] = [
    ("no boundary parameter", "multipart/form-data", FILE + CLOSE, "INVALID_UPLOAD"),
    ("empty boundary", "multipart/form-data; boundary=", FILE + CLOSE, "INVALID_UPLOAD"),
    ("another boundary", "multipart/form-data; boundary=other", FILE + CLOSE, "INVALID_UPLOAD"),
    ("boundary too long", "multipart/form-data; boundary=" + "b" * 300, FILE, "INVALID_UPLOAD"),
    ("no closing boundary", MULTIPART, FILE, "INVALID_UPLOAD"),
    ("cut inside the file", MULTIPART, FILE[: len(FILE) // 2], "INVALID_UPLOAD"),
    ("empty body", MULTIPART, b"", "INVALID_UPLOAD"),
    ("part without disposition", MULTIPART, part(None, valid()) + CLOSE, "INVALID_UPLOAD"),
    (
        "garbage part header",
        MULTIPART,
        f"--{BOUNDARY}\r\nnot a header\r\n\r\nx\r\n".encode() + CLOSE,
        "INVALID_UPLOAD",
    ),
    (
        "part header of 100 KB",
        MULTIPART,
        f"--{BOUNDARY}\r\nX-Pad: {'a' * 100_000}\r\n".encode() + FILE[len(BOUNDARY) + 4 :] + CLOSE,
        "INVALID_UPLOAD",
    ),
    ("file sent as a text field", MULTIPART, part("file", valid()) + CLOSE, "INVALID_UPLOAD"),
    (
        "three files",
        MULTIPART,
        FILE + part("a", b"1", "a") + part("b", b"2", "b") + CLOSE,
        "INVALID_UPLOAD",
    ),
    (
        "fifty fields",
        MULTIPART,
        FILE + b"".join(part(f"f{i}", b"x") for i in range(50)) + CLOSE,
        "INVALID_UPLOAD",
    ),
    (
        "a text field over 1 MiB",
        MULTIPART,
        FILE + part("reason", b"r" * (1024 * 1024 + 1)) + CLOSE,
        "INVALID_UPLOAD",
    ),
    ("not multipart", "application/json", b'{"file": "JVBERi0="}', "INVALID_UPLOAD"),
    ("url-encoded form", "application/x-www-form-urlencoded", b"file=JVBERi0%3D", "INVALID_UPLOAD"),
    ("no content type", None, FILE + CLOSE, "INVALID_UPLOAD"),
    ("only the closing boundary", MULTIPART, CLOSE, "FILE_COUNT"),
    (
        "file under another name",
        MULTIPART,
        part("document", valid(), "a.pdf") + CLOSE,
        "FILE_COUNT",
    ),
    ("two files", MULTIPART, FILE + part("file", valid(), "b.pdf") + CLOSE, "FILE_COUNT"),
    (
        "reason sent as a file",
        MULTIPART,
        FILE + part("reason", b"why", "r.txt") + CLOSE,
        "FILE_COUNT",
    ),
]


@pytest.mark.parametrize("route", ROUTES)
def test_unreadable_multipart_bodies_are_invalid_upload(
    client: TestClient, tenant: Tenant, route: str
) -> None:
    wrong = []
    for name, content_type, body, code in CASES:
        headers = dict(tenant.auth)
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = client.post(route, content=body, headers=headers)
        error = response.json().get("error") if response.status_code >= 400 else None
        if response.status_code != 400 or error is None or error.get("code") != code:
            wrong.append((name, response.status_code, response.text[:200]))
        else:
            assert set(error) == {"code", "message", "request_id"}
    assert wrong == []
    # The well-formed body these cases depart from is accepted.
    response = client.post(
        route, content=FILE + CLOSE, headers={**tenant.auth, "Content-Type": MULTIPART}
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("route", ROUTES)
def test_an_oversize_body_is_413(client: TestClient, tenant: Tenant, route: str) -> None:
    big = part("file", b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024), "big.pdf") + CLOSE
    response = client.post(route, content=big, headers={**tenant.auth, "Content-Type": MULTIPART})
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] in ("PAYLOAD_TOO_LARGE", "PDF_TOO_LARGE")
