"""The OpenAPI document states each family's authentication (API keys, the seal
document's JWT, L402, the admin key) on every operation, and what it states is what the
route does: checked by calling every operation without credentials and with each kind."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from conftest import Tenant
from notarium.app.runtime import Runtime
from unit.sealing.support import make_pdf

ANONYMOUS_REFUSALS = {401, 402}


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def _schemes(operation: dict[str, Any]) -> set[str]:
    return {name for requirement in operation["security"] for name in requirement}


def test_every_family_has_its_scheme(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {**schemes["ApiKey"], "type": "http", "scheme": "bearer"}
    assert schemes["Jwt"]["scheme"] == "bearer" and schemes["Jwt"]["bearerFormat"] == "JWT"
    assert schemes["L402"]["type"] == "http" and schemes["L402"]["scheme"] == "L402"
    assert schemes["AdminKey"]["scheme"] == "bearer"
    for name in ("proofd_live_", "prv_test_", "ip_live_"):
        assert name in schemes["ApiKey"]["description"]


def test_declared_security_matches_what_each_route_enforces(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    declared = {(p, m): o for p, m, o in _operations(schema)}
    families = {
        "/api/v1/timestamps": {"ApiKey", "Jwt"},
        "/v1/certificates": {"ApiKey", "Jwt"},
        "/v1/webhooks": {"ApiKey", "Jwt"},
        "/api/v1/certificates": {"ApiKey", "Jwt"},
        "/api/v1/seal": {"Jwt", "ApiKey"},
        "/admin/v1/accounts": {"AdminKey"},
        "/api/l402": {"L402"},
    }
    for path, schemes in families.items():
        assert _schemes(declared[(path, "post")]) == schemes, path
    assert {} in declared[("/api/l402", "post")]["security"]  # free actions need none

    for path, method, operation in _operations(schema):
        assert "security" in operation, (method, path)
        if path == "/api/l402":
            continue
        response = client.request(method.upper(), _concrete(path))
        if operation["security"]:
            assert response.status_code in ANONYMOUS_REFUSALS, (method, path, response.text)
        else:
            assert response.status_code not in ANONYMOUS_REFUSALS, (method, path, response.text)


def test_l402_challenges_an_anonymous_paid_request(client: TestClient) -> None:
    response = client.post("/api/l402", json={"action": "l402_timestamp", "hash": "ab" * 32})
    assert response.status_code == 402, response.text
    assert response.headers["www-authenticate"].startswith("L402 ")


def test_each_scheme_opens_its_operations(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    credentials = runtime.accounts.create_credentials(tenant.account_id)
    now = int(time.time())
    token = jwt.encode(
        {"iat": now, "nbf": now, "exp": now + 60},
        credentials.secret,
        algorithm="HS256",
        headers={"kid": credentials.key_id},
    )
    admin = runtime.accounts.create_key(tenant.account_id, scopes=["admin"]).secret
    by_scheme = {
        "ApiKey": tenant.auth,
        "Jwt": {"Authorization": f"Bearer {token}"},
        "AdminKey": {"Authorization": f"Bearer {admin}"},
    }
    schema = client.get("/openapi.json").json()
    for path, method, operation in _operations(schema):
        for scheme in _schemes(operation) - {"L402"}:
            response = client.request(method.upper(), _concrete(path), headers=by_scheme[scheme])
            assert response.status_code not in ANONYMOUS_REFUSALS, (scheme, method, path)
    # An ordinary key is authenticated but not enough for the admin operations.
    refused = client.get("/admin/v1/accounts", headers=tenant.auth)
    assert refused.status_code == 403


SEAL_FIELDS = {"file", "reason", "level", "visible", "page", "x1", "y1", "x2", "y2"}


def test_seal_schema_lists_every_form_field(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/seal"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(form["properties"]) == SEAL_FIELDS
    assert form["required"] == ["file"]
    for name in ("page", "x1", "y1", "x2", "y2"):
        assert form["properties"][name]["type"] == "integer"


@pytest.mark.parametrize(
    "fields",
    [
        {"reason": "r" * 501},
        {"level": "B-B"},
        *({"visible": "true", name: "left"} for name in ("page", "x1", "y1", "x2", "y2")),
    ],
)
def test_every_documented_seal_field_is_read(
    client: TestClient, tenant: Tenant, fields: dict[str, str]
) -> None:
    """Each field the schema lists is one the route reads: a bad value in it is refused."""
    response = client.post(
        "/api/v1/seal",
        headers=tenant.auth,
        files={"file": ("a.pdf", make_pdf(), "application/pdf")},
        data=fields,
    )
    assert response.status_code == 400, response.text
    assert set(fields) <= SEAL_FIELDS
