"""One exception handler for every family: the matched route's family answers, a path
no route matched falls back to the longest family prefix, and an unexpected failure is
a 500 in that family's envelope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient
from pydantic import BaseModel

from notarium.core.errors import (
    ConflictError,
    NotariumError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    ValidationError,
)
from notarium.http import errors
from notarium.http.error_codes import DEFAULT, Wire
from notarium.http.errors import install_error_handlers, register_envelope
from notarium.http.family import ErrorMap, Family
from notarium.http.middleware import PayloadTooLarge


def flat_envelope(status: int, code: str, message: str, request_id: str) -> Response:
    return JSONResponse({"err": code, "msg": message, "rid": request_id}, status_code=status)


class Duplicate(ConflictError):
    code = "DUPLICATE"


class Busy(NotariumError):
    code = "busy"


class Body(BaseModel):
    name: str
    size: int


alpha = APIRouter(prefix="/alpha")
beta = APIRouter(prefix="/beta")
legacy = APIRouter(prefix="/legacy")


@alpha.get("/items/{item}")
def alpha_item(item: str) -> dict[str, str]:
    if item == "dup":
        raise Duplicate("already there")
    if item == "busy":
        raise Busy("try later")
    if item == "big":
        raise PayloadTooLarge("too big")
    if item == "boom":
        raise RuntimeError("disk on fire")
    raise ValidationError("bad item", code="INVALID_ITEM")


@alpha.post("/items")
def alpha_create(body: Body) -> dict[str, str]:
    return {"name": body.name}


@beta.get("/items/{item}")
def beta_item(item: str) -> dict[str, str]:
    raise Duplicate("already there")


@legacy.get("/thing")
def legacy_thing() -> dict[str, str]:
    raise NotFoundError("gone")


ALPHA = Family(
    "alpha",
    routers=(alpha,),
    envelope=flat_envelope,
    prefixes=("/alpha",),
    errors=ErrorMap(
        {
            Duplicate: Wire(409, "duplicate_item"),
            Busy: lambda exc: Wire(
                503, "busy_now", headers={"Retry-After": "7"}, fields={"retry": 7}
            ),
            ValidationError: Wire(422),
        },
        validation={"name": "invalid_name"},
    ),
)
BETA = Family("beta", routers=(beta,), prefixes=("/beta",), errors=ErrorMap({Duplicate: Wire(409)}))
# `/beta/...` also starts with `/be`: the longer prefix wins.
BEE = Family(
    "bee",
    routers=(),
    envelope=flat_envelope,
    prefixes=("/be",),
    errors=ErrorMap({Duplicate: Wire(400)}),
)
LEGACY = Family("legacy", routers=(legacy,), prefixes=("/legacy",))


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(errors, "ENVELOPES", [])
    app = FastAPI()
    for family in (ALPHA, BETA, BEE, LEGACY):
        for router in family.routers:
            app.include_router(router)
    install_error_handlers(app, (ALPHA, BETA, BEE, LEGACY))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_matched_routes_family_maps_the_error(client: TestClient) -> None:
    response = client.get("/alpha/items/dup")
    assert response.status_code == 409
    assert response.json() == {
        "err": "duplicate_item",
        "msg": "already there",
        "rid": "req_unknown",
    }
    # The same exception in another family: that family's table and envelope.
    other = client.get("/beta/items/x")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "DUPLICATE"


def test_a_code_from_the_raise_site_survives_a_status_only_entry(client: TestClient) -> None:
    response = client.get("/alpha/items/plain")
    assert response.status_code == 422 and response.json()["err"] == "INVALID_ITEM"


def test_the_most_specific_class_wins_over_the_familys_broader_entry(client: TestClient) -> None:
    # The family maps ValidationError to 422, the shared table PayloadTooLarge (a
    # ValidationError) to 413: the more specific class decides.
    response = client.get("/alpha/items/big")
    assert response.status_code == 413 and response.json()["err"] == "PAYLOAD_TOO_LARGE"


def test_a_computed_entry_sets_headers_and_body_fields(client: TestClient) -> None:
    response = client.get("/alpha/items/busy")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json() == {
        "err": "busy_now",
        "msg": "try later",
        "rid": "req_unknown",
        "retry": 7,
    }
    assert int(response.headers["content-length"]) == len(response.content)


def test_request_validation_gets_the_fields_code(client: TestClient) -> None:
    missing_name = client.post("/alpha/items", json={"size": 1})
    assert missing_name.status_code == 400 and missing_name.json()["err"] == "invalid_name"
    assert missing_name.json()["msg"].startswith("body.name:")
    bad_size = client.post("/alpha/items", json={"name": "a", "size": "x"})
    assert bad_size.status_code == 400 and bad_size.json()["err"] == "INVALID_REQUEST"


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/alpha/nothing", "flat"),
        ("/beta/nothing", "standard"),
        ("/bex", "flat"),
        ("/elsewhere", "standard"),
    ],
)
def test_an_unmatched_path_falls_back_to_the_longest_prefix(
    client: TestClient, path: str, shape: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    body = response.json()
    code = body["err"] if shape == "flat" else body["error"]["code"]
    assert code == "NOT_FOUND"


def test_a_wrong_method_is_a_405_in_the_familys_envelope(client: TestClient) -> None:
    response = client.delete("/alpha/items/x")
    assert response.status_code == 405 and response.json()["err"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET"


def test_an_unexpected_failure_is_a_500_in_the_familys_envelope(client: TestClient) -> None:
    response = client.get("/alpha/items/boom")
    assert response.status_code == 500
    assert response.json()["err"] == "INTERNAL_ERROR"
    assert "disk on fire" not in response.text
    assert response.headers["x-request-id"] == "req_unknown"


def test_an_empty_table_keeps_the_registered_envelope(client: TestClient) -> None:
    register_envelope("/legacy", flat_envelope)
    response = client.get("/legacy/thing")
    assert response.status_code == 404 and response.json()["err"] == "NOT_FOUND"


def test_the_shared_table_carries_the_rate_limit_and_quota_headers() -> None:
    table = ErrorMap({})
    limited = table.lookup(
        RateLimitedError("slow down", limit=30, remaining=0, reset_at=1700000000.5, retry_after=12)
    )
    assert (limited.status, limited.code) == (429, "RATE_LIMITED")
    assert dict(limited.headers) == {
        "Retry-After": "12",
        "X-RateLimit-Limit": "30",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1700000000",
    }
    quota = table.lookup(QuotaExceededError("used up"))
    assert quota.status == 429 and int(quota.headers["Retry-After"]) > 0


def test_every_domain_error_without_an_entry_is_a_500_with_its_code() -> None:
    wire = ErrorMap({}).lookup(Busy("x"))
    assert (wire.status, wire.code) == (500, "busy")
    assert ErrorMap({}).lookup(KeyError("k")).code == "INTERNAL_ERROR"
    assert NotariumError in DEFAULT and Exception in DEFAULT
