"""The starter plan (API access, no flat-rate capture subscription) is set by an
operator from the CLI or the admin API, and web capture then answers the document's
403 ``subscription_required``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.cli.main import cli
from notarium.http.app import create_app
from notarium.ledger.accounts.plans import PLANS, PlanName

CAPTURE = {"url": "https://example.com/page-to-certify"}


def _capture(client: TestClient, key: str) -> object:
    return client.post(
        "/api/v1/certificates", json=CAPTURE, headers={"Authorization": f"Bearer {key}"}
    )


def _subscription_required(response: object) -> None:
    assert response.status_code == 403, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == "subscription_required" and body["message"]


def test_every_plan_can_be_named() -> None:
    assert set(PlanName.__args__) == set(PLANS)  # type: ignore[attr-defined]


def test_admin_api_sets_the_starter_plan(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    admin_key = runtime.accounts.create_key(tenant.account_id, scopes=["admin"]).secret
    admin = {"Authorization": f"Bearer {admin_key}"}
    created = client.post(
        "/admin/v1/accounts", json={"name": "initech", "plan": "starter"}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert created.json()["plan"] == "starter"
    _subscription_required(_capture(client, created.json()["api_key"]))

    pro = make_tenant(runtime, "pro")
    changed = client.patch(
        f"/admin/v1/accounts/{pro.account_id}", json={"plan": "starter"}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["plan"] == "starter"
    assert client.get(f"/admin/v1/accounts/{pro.account_id}", headers=admin).json()["plan"] == (
        "starter"
    )
    _subscription_required(_capture(client, pro.key))
    # API access stays: hashes are still timestamped on starter.
    me = client.get("/api/v1/me", headers=pro.auth).json()
    assert me["plan"] == "starter"


def test_cli_sets_the_starter_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("NOTARIUM_DATA_DIR", str(data))
    monkeypatch.delenv("NOTARIUM_DATABASE_URL", raising=False)

    def invoke(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    invoke("db", "upgrade")
    first = json.loads(invoke("accounts", "create", "acme", "--plan", "starter", "--json"))
    second = json.loads(invoke("accounts", "create", "globex", "--json"))
    assert "globex is now on starter" in invoke("accounts", "set-plan", "globex", "starter")
    plans = {a["name"]: a["plan"] for a in json.loads(invoke("accounts", "list", "--json"))}
    assert plans == {"acme": "starter", "globex": "starter"}

    runtime = build_runtime(Settings(data_dir=data, ots_calendars=[], embedded_workers=False))
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            _subscription_required(_capture(client, first["api_key"]))
            _subscription_required(_capture(client, second["api_key"]))
    finally:
        runtime.close()
