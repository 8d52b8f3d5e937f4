"""Public verification pages: hash, time, status and proofs, never the account."""

from __future__ import annotations

import base64
import hashlib

from fastapi.testclient import TestClient

from conftest import Tenant
from notarium.app.runtime import Runtime

DIGEST = hashlib.sha256(b"board minutes").hexdigest()
JSON = {"Accept": "application/json"}


def _create(client: TestClient, tenant: Tenant, digest: str = DIGEST) -> dict[str, object]:
    response = client.post(
        "/api/v1/timestamps",
        headers=tenant.auth,
        json={
            "sha256_hash": digest,
            "filename": "secret-merger-plan.pdf",
            "file_size_bytes": 10,
            "file_type": "application/pdf",
        },
    )
    assert response.status_code == 201
    data: dict[str, object] = response.json()
    return data


def test_verify_json(client: TestClient, tenant: Tenant) -> None:
    created = _create(client, tenant)
    response = client.get(f"/verify/{DIGEST.upper()}", headers=JSON)
    assert response.status_code == 200
    data = response.json()
    assert data["found"] is True and data["sha256_hash"] == DIGEST
    (record,) = data["records"]
    assert record["certificate_id"] == created["certificate_id"]
    assert record["created_at"] == created["created_at"]
    assert record["status"] == "pending"
    assert base64.b64decode(record["proofs"]["rfc3161"]["token"])[:1] == b"\x30"
    text = response.text
    assert tenant.account_id not in text
    assert "secret-merger-plan" not in text
    assert "filename" not in record


def test_verify_html(client: TestClient, tenant: Tenant) -> None:
    created = _create(client, tenant)
    response = client.get(f"/verify/{DIGEST}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert str(created["certificate_id"]) in response.text
    assert "secret-merger-plan" not in response.text
    assert tenant.account_id not in response.text


def test_certificate_page(client: TestClient, tenant: Tenant) -> None:
    created = _create(client, tenant)
    page = client.get(f"/cert/{created['certificate_id']}", headers=JSON)
    assert page.status_code == 200
    assert page.json()["sha256_hash"] == DIGEST
    html = client.get(f"/cert/{created['certificate_id']}")
    assert html.status_code == 200 and DIGEST in html.text


def test_unknown_hash_and_certificate(client: TestClient) -> None:
    missing = client.get(f"/verify/{'0' * 64}", headers=JSON)
    assert missing.status_code == 404 and missing.json()["found"] is False
    assert client.get("/verify/" + "0" * 64).status_code == 404
    cert = client.get("/cert/TS-NOPE0000", headers=JSON)
    assert cert.status_code == 404
    assert cert.json()["error"]["code"] == "TIMESTAMP_NOT_FOUND"
    bad = client.get("/verify/nothex", headers=JSON)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_SHA256_HASH"


def test_test_mode_records_are_not_public(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    test_key = runtime.accounts.create_key(tenant.account_id, mode="test").secret
    created = client.post(
        "/api/v1/timestamps",
        headers={"Authorization": f"Bearer {test_key}"},
        json={"sha256_hash": DIGEST, "filename": "a", "file_size_bytes": 1},
    )
    assert created.status_code == 201
    assert client.get(f"/verify/{DIGEST}", headers=JSON).json()["found"] is False
    assert client.get(f"/cert/{created.json()['certificate_id']}", headers=JSON).status_code == 404
