"""Keys under the prefix each document names (``proofd_live_``, ``prv_live_`` and
``prv_test_``, ``ip_live_``), issued from the CLI and the admin API, work in that
document's own header form; ``ntk_`` stays the default."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from conftest import Tenant
from fakes.capture_engine import ScriptedEngine, with_scripted_captures
from notarium.adapters.store.models import ApiKey
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.cli.main import cli
from notarium.http.app import create_app
from notarium.ledger.accounts.keys import hash_key
from unit.evidence.captures import sample_capture

DOC_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _admin(runtime: Runtime, tenant: Tenant) -> dict[str, str]:
    secret = runtime.accounts.create_key(tenant.account_id, scopes=["admin"]).secret
    return {"Authorization": f"Bearer {secret}"}


def _issue(client: TestClient, admin: dict[str, str], account: str, **body: object) -> str:
    response = client.post(f"/admin/v1/accounts/{account}/keys", json=body, headers=admin)
    assert response.status_code == 201, response.text
    secret = str(response.json()["api_key"])
    assert response.json()["hint"] == secret[: len(secret) - 34] + "…" + secret[-4:]
    return secret


def test_timestamps_document_header_form(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = _issue(client, _admin(runtime, tenant), tenant.account_id, prefix="proofd")
    assert re.fullmatch(r"proofd_live_[0-9A-Za-z]{38}", key)
    # As the document's curl example sends it.
    response = client.post(
        "/api/v1/timestamps",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": "contract-msa-v3-2026-04-13",
        },
        content=json.dumps(
            {
                "sha256_hash": DOC_HASH,
                "filename": "msa-v3.pdf",
                "file_size_bytes": 248331,
                "file_type": "application/pdf",
            }
        ),
    )
    assert response.status_code == 201, response.text
    listed = client.get(
        "/api/v1/timestamps?status=pending&limit=10", headers={"Authorization": "Bearer " + key}
    )
    assert [t["id"] for t in listed.json()["data"]] == [response.json()["id"]]


def test_certificates_document_live_and_test_keys(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    admin = _admin(runtime, tenant)
    live = _issue(client, admin, tenant.account_id, prefix="prv")
    test = _issue(client, admin, tenant.account_id, prefix="prv_test_")
    assert live.startswith("prv_live_") and test.startswith("prv_test_")
    body = {
        "sha256Hash": EMPTY_HASH,
        "fileName": "document.pdf",
        "fileSize": 2048576,
        "metadata": {"customerId": "cust_abc123", "orderId": "ord_xyz789"},
    }
    for key, test_mode in ((live, False), (test, True)):
        response = client.post(
            "/v1/certificates",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            content=json.dumps(body),
        )
        assert response.status_code == 201, response.text
        assert response.json()["testMode"] is test_mode


@pytest.fixture
def capture_client(runtime: Runtime) -> Iterator[TestClient]:
    engine = ScriptedEngine(default=lambda url: sample_capture(requested_url=url))
    captures = with_scripted_captures(runtime, engine, names={"example.com": "93.184.215.14"})
    with TestClient(create_app(captures), raise_server_exceptions=False) as client:
        yield client


def test_web_capture_document_header_form(
    capture_client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    key = _issue(capture_client, _admin(runtime, tenant), tenant.account_id, prefix="ip_live_")
    created = capture_client.post(
        "/api/v1/certificates",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        content='{"url": "https://example.com/page-to-certify"}',
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "ready"


def test_prefixed_keys_are_hashed_checksummed_and_revocable(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    admin = _admin(runtime, tenant)
    key = _issue(client, admin, tenant.account_id, prefix="prv")
    with runtime.sessions() as session:
        stored = [k.key_hash for k in session.query(ApiKey).all()]
    assert hash_key(key) in stored and all(key not in h for h in stored)
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/me", headers=auth).status_code == 200
    # A single changed character fails the checksum; so does another brand on the body.
    flipped = key[:-1] + ("A" if key[-1] != "A" else "B")
    for forged in (flipped, "ntk_live_" + key[len("prv_live_") :]):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "INVALID_API_KEY"
    # Rotation keeps the brand of the key it replaces.
    rotated = client.post(
        f"/admin/v1/accounts/{tenant.account_id}/keys/rotate", json={}, headers=admin
    )
    assert rotated.json()["api_key"].startswith("prv_live_")
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_default_and_invalid_prefixes(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    admin = _admin(runtime, tenant)
    assert _issue(client, admin, tenant.account_id).startswith("ntk_live_")
    assert _issue(client, admin, tenant.account_id, mode="test").startswith("ntk_test_")
    for body in ({"prefix": "PRV"}, {"prefix": "prv_test_", "mode": "live"}, {"prefix": ""}):
        response = client.post(
            f"/admin/v1/accounts/{tenant.account_id}/keys", json=body, headers=admin
        )
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "INVALID_KEY_PREFIX"


def test_cli_issues_and_rotates_prefixed_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("NOTARIUM_DATA_DIR", str(data))
    monkeypatch.delenv("NOTARIUM_DATABASE_URL", raising=False)

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    invoke("db", "upgrade")
    invoke("accounts", "create", "acme", "--json")
    test = json.loads(
        invoke("keys", "create", "--account", "acme", "--prefix", "prv_test_", "--json")
    )["api_key"]
    live = json.loads(invoke("keys", "create", "--account", "acme", "--prefix", "ip", "--json"))[
        "api_key"
    ]
    assert test.startswith("prv_test_") and live.startswith("ip_live_")
    rotated = json.loads(invoke("keys", "rotate", "--account", "acme", "--test", "--json"))[
        "api_key"
    ]
    assert rotated.startswith("prv_test_")
    refused = CliRunner().invoke(
        cli, ["keys", "create", "--account", "acme", "--test", "--prefix", "prv_live_"]
    )
    assert refused.exit_code != 0 and "INVALID_KEY_PREFIX" in refused.output

    runtime = build_runtime(Settings(data_dir=data, ots_calendars=[], embedded_workers=False))
    try:
        assert runtime.accounts.authenticate(live).mode == "live"
        assert runtime.accounts.authenticate(rotated).mode == "test"
    finally:
        runtime.close()
