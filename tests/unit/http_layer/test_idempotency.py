"""``Idempotency-Key`` as a dependency: claimed after authentication, replayed when
stored, a 4xx stored as the family renders it, a 5xx or an unexpected failure released,
a success stored by the route in its own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.testclient import TestClient

from notarium.core.errors import NotariumError, ValidationError
from notarium.http.errors import install_error_handlers
from notarium.http.family import Family
from notarium.http.idempotency import IdempotencyScope, idempotent
from notarium.ledger.idempotency.service import Claim, StoredResponse, check_key


@dataclass
class FakeIdempotency:
    """Keeps entries in a dict; records every call."""

    entries: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def claim(
        self, account_id: str, scope: str, key: str, request_hash: str
    ) -> Claim | StoredResponse:
        check_key(key)
        self.calls.append(f"claim {scope} {key}")
        entry = self.entries.get((account_id, scope, key))
        if isinstance(entry, StoredResponse):
            return entry
        claim = Claim(account_id, scope, key)
        self.entries[(account_id, scope, key)] = "in_progress"
        return claim

    def complete(self, claim: Claim, status: int, body: bytes) -> None:
        self.calls.append(f"complete {status}")
        self.entries[(claim.account_id, claim.scope, claim.key)] = StoredResponse(status, body)

    def complete_in(self, session: object, claim: Claim, status: int, body: bytes) -> None:
        assert session == "txn"
        self.calls.append(f"complete_in {status}")
        self.entries[(claim.account_id, claim.scope, claim.key)] = StoredResponse(status, body)

    def release(self, claim: Claim) -> None:
        self.calls.append("release")
        self.entries.pop((claim.account_id, claim.scope, claim.key), None)


class Refused(ValidationError):
    code = "REFUSED"


class Broken(NotariumError):
    code = "BROKEN"


logins: list[str] = []


def principal(request: Request) -> SimpleNamespace:
    logins.append(request.url.path)
    return SimpleNamespace(account_id="acct_1", mode=request.headers.get("x-mode", "live"))


Key = Annotated[IdempotencyScope, idempotent("things.create", principal)]


def make_app(service: FakeIdempotency) -> FastAPI:
    app = FastAPI()

    @app.post("/things/{outcome}")
    async def create(
        outcome: str, who: Annotated[SimpleNamespace, Depends(principal)], key: Key
    ) -> Response:
        if outcome == "refused":
            raise Refused("not like this")
        if outcome == "broken":
            raise Broken("backend down")
        if outcome == "crash":
            raise RuntimeError("bug")
        if outcome == "ok":
            key.complete_in("txn", 201, b'{"id": 1}')  # type: ignore[arg-type]
        return Response(b'{"id": 1}', status_code=201, media_type="application/json")

    app.state.runtime = SimpleNamespace(idempotency=service)
    install_error_handlers(app, (Family("things", routers=()),))
    return app


@pytest.fixture
def service() -> FakeIdempotency:
    logins.clear()
    return FakeIdempotency()


@pytest.fixture
def client(service: FakeIdempotency) -> Iterator[TestClient]:
    with TestClient(make_app(service), raise_server_exceptions=False) as test_client:
        yield test_client


def post(client: TestClient, outcome: str, key: str | None, **headers: str) -> Any:
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/things/{outcome}", content=b'{"a": 1}', headers=headers)


def test_without_a_key_nothing_is_claimed(client: TestClient, service: FakeIdempotency) -> None:
    assert post(client, "ok", None).status_code == 201
    assert service.calls == []


def test_a_success_is_stored_by_the_route_and_replayed(
    client: TestClient, service: FakeIdempotency
) -> None:
    first = post(client, "ok", "job-1")
    second = post(client, "ok", "job-1")
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert service.calls == [
        "claim things.create:live job-1",
        "complete_in 201",
        "claim things.create:live job-1",
    ]
    # The principal dependency ran once per request, shared by the route and the key.
    assert logins == ["/things/ok", "/things/ok"]


def test_a_client_error_is_stored_in_the_familys_envelope(
    client: TestClient, service: FakeIdempotency
) -> None:
    first = post(client, "refused", "job-2")
    second = post(client, "refused", "job-2")
    assert first.status_code == second.status_code == 400
    assert first.json()["error"]["code"] == "REFUSED"
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert service.calls[1] == "complete 400"


@pytest.mark.parametrize("outcome", ["broken", "crash"])
def test_a_server_failure_releases_the_key(
    client: TestClient, service: FakeIdempotency, outcome: str
) -> None:
    assert post(client, outcome, "job-3").status_code == 500
    assert service.calls == ["claim things.create:live job-3", "release"]
    assert service.entries == {}


def test_a_route_that_stores_nothing_releases_the_key(
    client: TestClient, service: FakeIdempotency
) -> None:
    assert post(client, "silent", "job-4").status_code == 201
    assert service.calls[-1] == "release" and service.entries == {}


def test_keys_are_scoped_by_mode(client: TestClient, service: FakeIdempotency) -> None:
    post(client, "ok", "job-5")
    post(client, "ok", "job-5", **{"x-mode": "test"})
    assert "claim things.create:test job-5" in service.calls
    assert len(service.entries) == 2


@pytest.mark.parametrize("key", ["", " ", "k" * 201])
def test_an_invalid_key_is_refused_before_any_claim(
    client: TestClient, service: FakeIdempotency, key: str
) -> None:
    response = post(client, "ok", key)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_IDEMPOTENCY_KEY"
    assert service.calls == []
