"""A wrong method gets 405 with every method of that path in ``Allow`` (RFC 9110
section 15.5.6), even where several routes share the path, in the family's envelope."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant

# Fixed, so every pytest-xdist worker collects the same parameter ids.
ITEM = "65c45d09-03eb-410b-8944-757877210ada"


def _standard(body: dict[str, Any]) -> None:
    assert set(body) == {"error"} and body["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert set(body["error"]) == {"code", "message", "request_id"}


def _certificates(body: dict[str, Any]) -> None:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "requestId"}


def _webcapture(body: dict[str, Any]) -> None:
    assert set(body) == {"error", "message", "requestId"}


def _l402(body: dict[str, Any]) -> None:
    assert body["success"] is False and body["http_code"] == 405


CASES = [
    ("PUT", "/api/v1/timestamps", {"GET", "POST"}, _standard),
    ("DELETE", "/api/v1/timestamps", {"GET", "POST"}, _standard),
    ("POST", f"/api/v1/timestamps/{ITEM}", {"GET"}, _standard),
    ("PUT", "/v1/certificates", {"GET", "POST"}, _certificates),
    ("PUT", "/v1/webhooks", {"GET", "POST"}, _certificates),
    ("POST", f"/v1/webhooks/{ITEM}", {"GET", "PATCH", "DELETE"}, _certificates),
    ("PUT", f"/v1/webhooks/{ITEM}", {"GET", "PATCH", "DELETE"}, _certificates),
    ("DELETE", "/api/v1/certificates", {"GET", "POST"}, _webcapture),
    ("GET", "/api/v1/seal", {"POST"}, _standard),
    ("GET", "/api/l402", {"POST"}, _l402),
    ("PUT", "/admin/v1/accounts", {"GET", "POST"}, _standard),
    ("DELETE", "/admin/v1/accounts/someone", {"GET", "PATCH"}, _standard),
    ("DELETE", "/admin/v1/accounts/someone/keys", {"GET", "POST"}, _standard),
]


@pytest.mark.parametrize(("method", "path", "allowed", "envelope"), CASES)
def test_allow_lists_every_method_of_the_path(
    client: TestClient, tenant: Tenant, method: str, path: str, allowed: set[str], envelope: Any
) -> None:
    response = client.request(method, path, headers=tenant.auth)
    assert response.status_code == 405, response.text
    listed = [m.strip() for m in response.headers["allow"].split(",")]
    assert len(listed) == len(set(listed))
    assert set(listed) == allowed
    envelope(response.json())
    # Every listed method is really served: none of them answers 405 itself.
    for other in listed:
        assert client.request(other, path, headers=tenant.auth).status_code != 405, other
