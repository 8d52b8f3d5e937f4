"""Operator API: guarded by a key with the admin scope."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import Tenant
from notarium.app.runtime import Runtime


def _admin(runtime: Runtime, tenant: Tenant) -> dict[str, str]:
    secret = runtime.accounts.create_key(tenant.account_id, scopes=["admin"]).secret
    return {"Authorization": f"Bearer {secret}"}


def test_requires_admin_scope(client: TestClient, tenant: Tenant) -> None:
    response = client.get("/admin/v1/accounts", headers=tenant.auth)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INSUFFICIENT_SCOPE"
    assert client.get("/admin/v1/accounts").status_code == 401


def test_account_and_key_lifecycle(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    admin = _admin(runtime, tenant)
    created = client.post(
        "/admin/v1/accounts", json={"name": "globex", "plan": "pro"}, headers=admin
    )
    assert created.status_code == 201
    account = created.json()
    first_key = {"Authorization": f"Bearer {account['api_key']}"}
    assert client.get("/api/v1/me", headers=first_key).json()["account_name"] == "globex"

    duplicate = client.post("/admin/v1/accounts", json={"name": "globex"}, headers=admin)
    assert duplicate.status_code == 409

    rotated = client.post(
        f"/admin/v1/accounts/{account['account_id']}/keys/rotate",
        json={"mode": "live"},
        headers=admin,
    )
    assert rotated.status_code == 201
    assert client.get("/api/v1/me", headers=first_key).status_code == 401
    new_key = {"Authorization": f"Bearer {rotated.json()['api_key']}"}
    assert client.get("/api/v1/me", headers=new_key).status_code == 200

    keys = client.get("/admin/v1/accounts/globex/keys", headers=admin).json()["data"]
    assert len(keys) == 2 and all("api_key" not in k for k in keys)
    revoked = client.post(f"/admin/v1/keys/{rotated.json()['key_id']}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/api/v1/me", headers=new_key).status_code == 401

    downgraded = client.patch("/admin/v1/accounts/globex", json={"plan": "free"}, headers=admin)
    assert downgraded.json()["plan"] == "free"
    missing = client.get("/admin/v1/accounts/nobody", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ACCOUNT_NOT_FOUND"


def test_bad_input(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    admin = _admin(runtime, tenant)
    bad_plan = client.post("/admin/v1/accounts", json={"name": "x", "plan": "gold"}, headers=admin)
    assert bad_plan.status_code == 400
    assert bad_plan.json()["error"]["code"] == "INVALID_REQUEST"
    bad_scope = client.post(
        f"/admin/v1/accounts/{tenant.account_id}/keys", json={"scopes": ["root"]}, headers=admin
    )
    assert bad_scope.status_code == 400
    assert bad_scope.json()["error"]["code"] == "INVALID_SCOPE"
