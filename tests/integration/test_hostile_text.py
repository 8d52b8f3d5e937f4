"""Text no field can hold: an unpaired surrogate (the JSON escape ``\\ud800``) or NUL in
any string of any family's JSON body, NUL in a path or query parameter, and C0 or C1
control characters in names. Each is a 400 in the family's own envelope, on both
databases (PostgreSQL refuses NUL where SQLite would store it)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Many refused requests from one address in a row: the per-IP buckets for malformed
    # requests are not what these tests are about.
    return settings.model_copy(update={"rate_limits_enabled": False})


SURROGATE = "\\ud800"
NUL = "\\u0000"


def _standard(body: dict[str, Any]) -> str:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "request_id"}
    return str(body["error"]["code"])


def _certificates(body: dict[str, Any]) -> str:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "requestId"}
    return str(body["error"]["code"])


def _capture(body: dict[str, Any]) -> str:
    assert set(body) == {"error", "message", "requestId"}
    return str(body["error"])


def _l402(body: dict[str, Any]) -> str:
    assert body["success"] is False and body["http_code"] == 400 and "request_id" in body
    return str(body["error"])


Envelope = Callable[[dict[str, Any]], str]

# Each family's request with every string field it reads, and how its envelope reads.
FAMILIES: dict[str, tuple[str, dict[str, Any], Envelope, str]] = {
    "timestamps": (
        "/api/v1/timestamps",
        {
            "sha256_hash": "5f" * 32,
            "filename": "contract.pdf",
            "file_size_bytes": 1234,
            "file_type": "application/pdf",
        },
        _standard,
        "INVALID_JSON",
    ),
    "certificates": (
        "/v1/certificates",
        {
            "sha256Hash": "6f" * 32,
            "fileName": "contract.pdf",
            "fileSize": 1234,
            "fileType": "application/pdf",
            "metadata": {"customer": "acme", "tags": ["a", "b"]},
        },
        _certificates,
        "invalid_json",
    ),
    "webhooks": (
        "/v1/webhooks",
        {"url": "https://hooks.example/notarium", "events": ["certificate.confirmed"]},
        _certificates,
        "invalid_json",
    ),
    "web capture": (
        "/api/v1/certificates",
        {"url": "https://127.0.0.1/page"},
        _capture,
        "invalid_json",
    ),
    "coverage": (
        "/api/v1/coverage",
        {"url": "https://127.0.0.1/page", "domain": "127.0.0.1"},
        _capture,
        "invalid_json",
    ),
    "l402 hash": (
        "/api/l402",
        {
            "action": "l402_timestamp",
            "hash": "7f" * 32,
            "webhook_url": "https://hooks.example/l402",
            "notification_email": "ops@example.com",
        },
        _l402,
        "invalid_request",
    ),
    "l402 file": (
        "/api/l402",
        {
            "action": "l402_timestamp",
            "file_data": base64.b64encode(b"%PDF-1.4\n").decode(),
            "filename": "contract.pdf",
        },
        _l402,
        "invalid_request",
    ),
    "l402 status": (
        "/api/l402",
        {"action": "l402_timestamp_status", "timestamp_id": "LN-7K2M9QXD"},
        _l402,
        "invalid_request",
    ),
}


# The documents' codes for a bad value in each field (webhooks have none per field).
TIMESTAMPS = {
    "sha256_hash": "INVALID_SHA256_HASH",
    "filename": "INVALID_FILENAME",
    "file_type": "INVALID_FILE_TYPE",
}
CERTIFICATES = {
    "sha256Hash": "invalid_hash",
    "fileName": "invalid_file_name",
    "fileType": "invalid_file_type",
    "metadata": "invalid_metadata",
}
CAPTURE = {"url": "invalid_url", "domain": "invalid_url"}
L402 = {
    "action": "invalid_action",
    "hash": "invalid_hash",
    "webhook_url": "invalid_webhook_url",
    "notification_email": "invalid_notification_email",
    "file_data": "invalid_file_data",
    "filename": "invalid_filename",
    "timestamp_id": "invalid_timestamp_id",
}
FIELD_CODES: dict[str, dict[str, str]] = {
    "timestamps": TIMESTAMPS,
    "certificates": CERTIFICATES,
    "web capture": CAPTURE,
    "coverage": CAPTURE,
    "l402 hash": L402,
    "l402 file": L402,
    "l402 status": L402,
}


def _string_fields(body: dict[str, Any]) -> list[tuple[str, ...]]:
    """Paths to every string in ``body``, and one to a new key inside it."""
    paths: list[tuple[str, ...]] = [("<key>",)]
    for key, value in body.items():
        if isinstance(value, str):
            paths.append((key,))
        elif isinstance(value, dict):
            paths += [(key, inner) for inner, v in value.items() if isinstance(v, str)]
            paths.append((key, "<key>"))
        elif isinstance(value, list):
            paths += [(key, str(i)) for i, v in enumerate(value) if isinstance(v, str)]
    return paths


def _poisoned(body: dict[str, Any], path: tuple[str, ...], escape: str) -> bytes:
    """``body`` as JSON text with ``escape`` (a JSON escape, kept as written) appended
    to the string at ``path``, or added as a key there."""
    marker = "\u2063MARK\u2063"
    copy = json.loads(json.dumps(body))
    *parents, last = path
    target = copy
    for step in parents:
        target = target[int(step)] if isinstance(target, list) else target[step]
    if last == "<key>":
        target["k" + marker] = "v"
    elif isinstance(target, list):
        target[int(last)] += marker
    else:
        target[last] += marker
    text = json.dumps(copy, ensure_ascii=False)
    assert text.count(marker) == 1
    return text.replace(marker, escape).encode()


@pytest.mark.parametrize("family", FAMILIES)
def test_unstorable_text_in_any_json_string_is_a_400_in_the_familys_envelope(
    client: TestClient, tenant: Tenant, family: str
) -> None:
    url, body, envelope, default = FAMILIES[family]
    for path in _string_fields(body):
        # Inside a field the family validates, the field's own code; else the body's.
        code = FIELD_CODES.get(family, {}).get(path[0], default)
        for escape, what in ((SURROGATE, "surrogate"), (NUL, "NUL")):
            response = client.post(
                url,
                content=_poisoned(body, path, escape),
                headers={**tenant.auth, "Content-Type": "application/json"},
            )
            assert response.status_code == 400, (path, escape, response.text)
            assert envelope(response.json()) == code, (path, escape)
            # The message says what was wrong (escaped, never echoed as is).
            assert what in response.text, (path, escape)


def test_admin_bodies_refuse_unstorable_and_control_text(
    client: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    admin = {
        "Authorization": "Bearer "
        + runtime.accounts.create_key(tenant.account_id, scopes=["admin"]).secret,
        "Content-Type": "application/json",
    }
    for name in (SURROGATE, NUL, "\\u0085", "\\u009b", "\\u0007"):
        raw = ('{"name": "acme' + name + 'corp", "plan": "pro"}').encode()
        response = client.post("/admin/v1/accounts", content=raw, headers=admin)
        assert response.status_code == 400, (name, response.text)
        assert _standard(response.json()) in ("INVALID_REQUEST", "INVALID_ACCOUNT")
    assert client.get("/admin/v1/accounts", headers=admin).status_code == 200
    names = [a["name"] for a in client.get("/admin/v1/accounts", headers=admin).json()["data"]]
    assert not any(n.startswith("acme") for n in names)


NUL_URLS: list[tuple[str, Envelope]] = [
    ("/api/v1/timestamps/%00", _standard),
    ("/api/v1/timestamps?status=pending&cursor=%00", _standard),
    ("/v1/certificates/HC-%00", _certificates),
    ("/v1/certificates?cursor=%00", _certificates),
    ("/v1/verify/%00abc", _certificates),
    ("/v1/webhooks/wh_%00", _certificates),
    ("/api/v1/certificates/%00", _capture),
    ("/api/v1/certificates?before=%00", _capture),
    ("/cert/TS-%00", _standard),
    ("/verify/%00", _standard),
    ("/api/v1/timestamps/" + "a" * 36 + "/proof?x%00=1", _standard),
]


def test_nul_in_a_path_or_query_parameter_is_a_400(client: TestClient, tenant: Tenant) -> None:
    for url, envelope in NUL_URLS:
        response = client.get(url, headers=tenant.auth)
        assert response.status_code == 400, (url, response.text)
        assert envelope(response.json()).lower() == "invalid_request", url


def test_admin_path_with_nul_is_a_400(client: TestClient, runtime: Runtime, tenant: Tenant) -> None:
    secret = runtime.accounts.create_key(tenant.account_id, scopes=["admin"]).secret
    response = client.get("/admin/v1/accounts/%00", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 400 and _standard(response.json()) == "INVALID_REQUEST"


# C1 controls (U+0080 to U+009F) are refused exactly where C0 ones are.
C1 = ["\u0080", "\u0085", "\u008d", "\u009b", "\u009f"]
C0 = ["\u0000", "\u0007", "\u001b", "\u007f"]


def test_control_characters_in_names_and_types_are_refused(
    client: TestClient, tenant: Tenant
) -> None:
    for char in C0 + C1:
        _refused_everywhere(client, tenant, char)


def _refused_everywhere(client: TestClient, tenant: Tenant, char: str) -> None:
    name = f"con{char}tract.pdf"
    checks = [
        (
            "/api/v1/timestamps",
            {"sha256_hash": "5f" * 32, "filename": name, "file_size_bytes": 1},
            _standard,
            "INVALID_FILENAME",
        ),
        (
            "/api/v1/timestamps",
            {
                "sha256_hash": "5f" * 32,
                "filename": "a.pdf",
                "file_size_bytes": 1,
                "file_type": f"text/{char}plain",
            },
            _standard,
            "INVALID_FILE_TYPE",
        ),
        (
            "/v1/certificates",
            {"sha256Hash": "6f" * 32, "fileName": name, "fileSize": 1},
            _certificates,
            "invalid_file_name",
        ),
        (
            "/v1/certificates",
            {"sha256Hash": "6f" * 32, "fileName": "a.pdf", "fileSize": 1, "fileType": f"a{char}"},
            _certificates,
            "invalid_file_type",
        ),
        (
            "/api/l402",
            {"action": "l402_timestamp", "file_data": "JVBERi0=", "filename": name},
            _l402,
            "invalid_filename",
        ),
        (
            "/api/l402",
            {
                "action": "l402_timestamp",
                "hash": "7f" * 32,
                "webhook_url": f"https://h.example/{char}",
            },
            _l402,
            "invalid_webhook_url",
        ),
        (
            "/api/l402",
            {"action": "l402_timestamp_status", "timestamp_id": f"LN-{char}"},
            _l402,
            "invalid_timestamp_id",
        ),
    ]
    for url, body, envelope, code in checks:
        response = client.post(url, json=body, headers=tenant.auth)
        if char == "\u0000":
            # NUL never reaches a field's own check: the body itself is refused.
            assert response.status_code == 400, response.text
            continue
        assert response.status_code == 400, (url, body, response.text)
        assert envelope(response.json()) == code, response.text
