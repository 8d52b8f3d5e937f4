"""CORS headers as the browser reads them: none by default; preflights for a listed
origin answered 204 with what the documents' browser examples send and read; refusals
in the family's envelope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from conftest import Tenant
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app

ORIGIN = "http://127.0.0.1:5173"


def _split(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",")}


@pytest.fixture
def cors_client(runtime: Runtime) -> Iterator[TestClient]:
    runtime.settings.cors_origins = [ORIGIN, "https://app.example"]
    runtime.settings.cors_max_age = 900
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client


def _preflight(client: TestClient, path: str, origin: str, method: str = "POST") -> object:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )


def test_no_cors_headers_by_default(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/api/v1/timestamps", headers={**tenant.auth, "Origin": ORIGIN})
    assert response.status_code == 200
    assert not [h for h in response.headers if h.startswith("access-control-")]
    preflight = _preflight(client, "/api/v1/timestamps", ORIGIN)
    assert not [h for h in preflight.headers if h.startswith("access-control-")]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/timestamps", "POST"),
        ("/v1/certificates", "POST"),
        ("/v1/webhooks/0b7c7d3e-2b8e-4f5e-9a53-2b8e4f5e9a53", "DELETE"),
        ("/api/v1/certificates", "POST"),
        ("/api/v1/seal", "POST"),
        ("/api/l402", "POST"),
    ],
)
def test_preflight_for_a_listed_origin(cors_client: TestClient, path: str, method: str) -> None:
    response = _preflight(cors_client, path, ORIGIN, method)
    assert response.status_code == 204  # type: ignore[attr-defined]
    assert response.content == b""  # type: ignore[attr-defined]
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["access-control-allow-origin"] == ORIGIN
    assert method.lower() in _split(headers["access-control-allow-methods"])
    assert {"authorization", "content-type", "idempotency-key"} <= _split(
        headers["access-control-allow-headers"]
    )
    assert headers["access-control-max-age"] == "900"
    assert "origin" in _split(headers["vary"])
    assert "access-control-allow-credentials" not in headers


def test_actual_response_exposes_what_clients_read(cors_client: TestClient, tenant: Tenant) -> None:
    response = cors_client.post(
        "/api/v1/timestamps",
        json={"sha256_hash": "ab" * 32, "filename": "a.pdf", "file_size_bytes": 1},
        headers={**tenant.auth, "Origin": "https://app.example", "Idempotency-Key": "k-1"},
    )
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    exposed = _split(response.headers["access-control-expose-headers"])
    assert {
        "x-request-id",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
        "content-disposition",
    } <= exposed
    for name in ("x-request-id", "x-ratelimit-limit"):
        assert name in response.headers
    # Errors carry the headers too, so a page can read their envelope.
    missing = cors_client.get("/api/v1/timestamps", headers={"Origin": ORIGIN})
    assert missing.status_code == 401
    assert missing.headers["access-control-allow-origin"] == ORIGIN


@pytest.mark.parametrize(
    ("path", "code_of"),
    [
        ("/api/v1/timestamps", lambda b: b["error"]["code"]),
        ("/v1/certificates", lambda b: b["error"]["code"]),
        ("/api/v1/certificates", lambda b: b["error"]),
        ("/api/l402", lambda b: b["error"]),
    ],
)
def test_other_origins_are_refused_in_the_family_envelope(
    cors_client: TestClient, path: str, code_of: object
) -> None:
    response = _preflight(cors_client, path, "https://evil.example")
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "access-control-allow-origin" not in response.headers  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert "cors" in str(code_of(body)).lower()  # type: ignore[operator]
    plain = cors_client.get(path, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_refused_header_or_method(cors_client: TestClient) -> None:
    odd_header = cors_client.options(
        "/api/v1/timestamps",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-secret",
        },
    )
    assert odd_header.status_code == 403
    odd_method = _preflight(cors_client, "/api/v1/timestamps", ORIGIN, "PUT")
    assert odd_method.status_code == 403  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("http://127.0.0.1:5173", ["http://127.0.0.1:5173"]),
        (
            " https://a.example/ , https://b.example:8443",
            ["https://a.example", "https://b.example:8443"],
        ),
        ("*", ["*"]),
    ],
)
def test_origins_setting(value: str, expected: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTARIUM_CORS_ORIGINS", value)
    assert Settings().cors_origins == expected


@pytest.mark.parametrize("value", ["example.com", "https://a.example/path", "ftp://a.example"])
def test_malformed_origins_are_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTARIUM_CORS_ORIGINS", value)
    with pytest.raises(ValidationError):
        Settings()
