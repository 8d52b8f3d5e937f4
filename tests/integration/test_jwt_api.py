"""JWT Bearer tokens work on every route family, from credentials notarium issued."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from conftest import Tenant
from notarium.app.runtime import Runtime
from notarium.cli.main import cli

DOC_KID = "3b438437-04a4-40bb-8389-54bb02766fba"
DOC_SECRET = "AC4Etykn7jusGR5FwLDAtILtQbiQbTMKedP31szXg4WlSbjGEXyNMZ"
DOC_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IjNiNDM4NDM3LTA0YTQtNDBiYi04Mzg5LTU0YmIwMjc2"
    "NmZiYSJ9.eyJpYXQiOjE1NDYzMDA4MDAsIm5iZiI6MTU0NjMwMDgwMCwiZXhwIjoxNTQ2MzAwODYwfQ."
    "bwqCUHS1d5d8guAPHDsdd9-a8oXxH1q45O0tDP1asTo"
)


def bearer(kid: str, secret: str, lifetime: int = 60) -> dict[str, str]:
    now = int(time.time())
    token = jwt.encode(
        {"iat": now, "nbf": now, "exp": now + lifetime},
        secret,
        algorithm="HS256",
        headers={"kid": kid},
    )
    return {"Authorization": f"Bearer {token}"}


def test_jwt_on_every_family(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    issued = runtime.accounts.create_credentials(tenant.account_id)
    auth = bearer(issued.key_id, issued.secret)
    created = client.post(
        "/api/v1/timestamps",
        headers=auth,
        json={"sha256_hash": "ab" * 32, "filename": "a.pdf", "file_size_bytes": 1},
    )
    assert created.status_code == 201
    # The same account's API key sees the record: one account, two kinds of credentials.
    assert (
        client.get(f"/api/v1/timestamps/{created.json()['id']}", headers=tenant.auth).status_code
        == 200
    )
    cert = client.post(
        "/v1/certificates",
        headers=auth,
        json={"sha256Hash": "cd" * 32, "fileName": "b.pdf", "fileSize": 2},
    )
    assert cert.status_code == 201
    assert client.get("/v1/webhooks", headers=auth).status_code == 200


def test_jwt_failures_are_distinct_401s(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    issued = runtime.accounts.create_credentials(tenant.account_id)
    cases = {
        "TOKEN_KID_UNKNOWN": bearer("nobody", issued.secret),
        "TOKEN_SIGNATURE_INVALID": bearer(issued.key_id, "x" * 40),
        "TOKEN_LIFETIME_TOO_LONG": bearer(issued.key_id, issued.secret, lifetime=7200),
    }
    for code, headers in cases.items():
        response = client.get("/api/v1/timestamps", headers=headers)
        assert response.status_code == 401, code
        assert response.json()["error"]["code"] == code
    runtime.accounts.revoke_credentials(issued.key_id)
    revoked = client.get("/api/v1/timestamps", headers=bearer(issued.key_id, issued.secret))
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "TOKEN_KID_UNKNOWN"


def test_the_documents_credentials_and_token(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    runtime.accounts.create_credentials(tenant.account_id, key_id=DOC_KID, secret=DOC_SECRET)
    # The document's token expired in 2019: refused as expired, not as forged.
    response = client.get("/api/v1/timestamps", headers={"Authorization": f"Bearer {DOC_TOKEN}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "TOKEN_EXPIRED"
    assert client.get("/api/v1/timestamps", headers=bearer(DOC_KID, DOC_SECRET)).status_code == 200


def test_credentials_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTARIUM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("NOTARIUM_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["accounts", "create", "acme"]).exit_code == 0
    result = runner.invoke(cli, ["credentials", "create", "--account", "acme", "--json"])
    assert result.exit_code == 0, result.output
    issued = json.loads(result.output)
    assert set(issued) == {"key_id", "secret"} and len(issued["secret"]) >= 32
    listed = json.loads(
        runner.invoke(cli, ["credentials", "list", "--account", "acme", "--json"]).output
    )
    assert [row["key_id"] for row in listed] == [issued["key_id"]]
    assert issued["secret"] not in json.dumps(listed)
    assert runner.invoke(cli, ["credentials", "revoke", issued["key_id"]]).exit_code == 0
    listed = json.loads(
        runner.invoke(cli, ["credentials", "list", "--account", "acme", "--json"]).output
    )
    assert listed[0]["revoked"] is True
