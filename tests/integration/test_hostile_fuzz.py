"""Hostile input to every operation of the OpenAPI document, on both databases: zero 5xx.

Two halves. Schemathesis generates valid and invalid requests for every operation
(derandomized, a fixed example budget, so a run is reproducible and bounded), checking
only that no answer is a server error; the conformance of the answers is
``test_openapi_schemathesis.py``'s business. Then a hand-written corpus of what
generators rarely reach is sent to every operation: unpaired surrogates, NUL, 1 MB
strings, nesting 10,000 levels deep, wrong types, huge numbers, empty and non-JSON
bodies, in every body field, path and query parameter, and as whole bodies.

Both run with an admin key that holds every scope and with rate limits off, so the
requests reach the code behind authentication and the limits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from conftest import make_tenant
from fakes.capture_engine import ScriptedEngine, with_scripted_captures
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app
from notarium.ledger.accounts.scopes import ALL_SCOPES
from unit.evidence.captures import sample_capture

# Generators and serializers for the binary bodies (see test_openapi_schemathesis.py).
schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")
schemathesis.serializer.alias("application/ocsp-request", "application/octet-stream")

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limits_enabled": False})


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    # Captures through a scripted engine, every name resolving to loopback: nothing
    # generated here reaches DNS, a browser or another machine.
    engine = ScriptedEngine(default=lambda url: sample_capture(requested_url=url))
    return create_app(with_scripted_captures(runtime, engine, otherwise="127.0.0.1"))


@pytest.fixture
def fuzz_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin_auth(runtime: Runtime) -> dict[str, str]:
    tenant = make_tenant(runtime, "business")
    key = runtime.accounts.create_key(tenant.account_id, scopes=list(ALL_SCOPES))
    return {"Authorization": f"Bearer {key.secret}"}


# -- schemathesis over every operation ----------------------------------------------------


@pytest.fixture
def api_schema(app: FastAPI, request: pytest.FixtureRequest) -> Any:
    if not hasattr(request.node, "_nodeid"):  # see test_openapi_schemathesis.py
        request.node._nodeid = request.node.nodeid
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_generated_requests_never_get_a_server_error(case: Any, admin_auth: dict[str, str]) -> None:
    case.call_and_validate(headers=admin_auth, checks=[not_a_server_error])


# -- the hand-written corpus --------------------------------------------------------------

MB_STRING = "x" * (1024 * 1024)
DEEP = 10_000

#: Values put into each field of a JSON body, as JSON text.
HOSTILE_VALUES: dict[str, str] = {
    "surrogate": '"\\ud800"',
    "low surrogate": '"a\\udfffb"',
    "nul": '"a\\u0000b"',
    "c1": '"a\\u009bb"',
    "1 MB string": json.dumps(MB_STRING),
    "deep array": "[" * DEEP + "]" * DEEP,
    "deep object": '{"a":' * DEEP + "1" + "}" * DEEP,
    "array": '["a", 1, null]',
    "object": '{"a": {"b": []}}',
    "huge integer": "9" * 5000,
    "big integer": str(2**64),
    "negative": "-1",
    "huge float": "1e308",
    "overflowing float": "1e999",
    "tiny float": "-1e-320",
    "true": "true",
    "null": "null",
    "empty string": '""',
    "spaces": '"   "',
    "emoji": '"\\ud83d\\ude00"',
}

#: Whole bodies sent to every operation, JSON or not.
HOSTILE_BODIES: dict[str, bytes] = {
    "empty": b"",
    "null": b"null",
    "array": b"[]",
    "number": b"1",
    "string": b'"x"',
    "truncated": b'{"a": ',
    "not utf-8": b"\xff\xfe\xfd",
    "utf-16": '{"a": 1}'.encode("utf-16"),
    "NaN": b'{"a": NaN}',
    "duplicate keys": b'{"a": 1, "a": 2}',
    "surrogate key": b'{"\\ud800": 1}',
    "nul": b"\x00" * 64,
    "deep": b"[" * DEEP + b"]" * DEEP,
    "10k keys": json.dumps({f"k{i}": i for i in range(10_000)}).encode(),
    "1 MB": json.dumps({"a": MB_STRING}).encode(),
    "form": b"a=1&b=%00",
}

#: Path parameter values (already URL-encoded).
HOSTILE_SEGMENTS: dict[str, str] = {
    "nul": "%00",
    "nul inside": "TS-%00ABC",
    "invalid utf-8": "%ED%A0%80",
    "long": "a" * 4000,
    "dot dot": "%2E%2E",
    "encoded slash": "a%2Fb",
    "quote": quote("' OR 1=1 --", safe=""),
    "negative": "-1",
    "huge number": "9" * 400,
    "float": "1e309",
    "unicode": quote("ü😀", safe=""),
    "space": "%20",
    "percent": "%25",
}

#: Query parameter values (already URL-encoded).
HOSTILE_QUERY: dict[str, str] = {
    "nul": "%00",
    "invalid utf-8": "%ED%A0%80",
    "long": "a" * 8000,
    "negative": "-1",
    "huge": "9" * 400,
    "float": "1e309",
    "empty": "",
    "date far future": "9999-12-31T23:59:59.999999%2B14:00",
    "date far past": "0001-01-01T00:00:00",
    "unicode": quote("ü😀", safe=""),
}

#: A body each JSON operation accepts (or refuses only for a reason of its own), so a
#: hostile value in one field is what its answer is about.
BASE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/timestamps"): {
        "sha256_hash": "ab" * 32,
        "filename": "a.pdf",
        "file_size_bytes": 10,
        "file_type": "application/pdf",
    },
    ("post", "/admin/v1/accounts"): {"name": "fuzzed", "plan": "pro"},
    ("patch", "/admin/v1/accounts/{account}"): {"plan": "pro"},
    ("post", "/admin/v1/accounts/{account}/keys"): {"mode": "test", "scopes": ["seal"]},
    ("post", "/admin/v1/accounts/{account}/keys/rotate"): {"mode": "test", "scopes": ["seal"]},
    ("post", "/v1/certificates"): {
        "sha256Hash": "cd" * 32,
        "fileName": "a.pdf",
        "fileSize": 10,
        "fileType": "application/pdf",
        "metadata": {"k": "v"},
        "metadataPublic": False,
    },
    ("post", "/v1/webhooks"): {
        "url": "https://hooks.example/x",
        "events": ["certificate.confirmed"],
        "mode": "test",
        "description": "d",
    },
    ("patch", "/v1/webhooks/{webhook_id}"): {
        "url": "https://hooks.example/y",
        "events": ["certificate.confirmed"],
        "active": True,
    },
    ("post", "/api/l402"): {
        "action": "l402_timestamp",
        "hash": "ef" * 32,
        "webhook_url": "https://hooks.example/l402",
        "notification_email": "a@example.com",
        "file_data": None,
        "filename": None,
        "timestamp_id": None,
    },
    ("post", "/api/v1/certificates"): {"url": "https://127.0.0.1/page"},
    ("post", "/api/v1/coverage"): {"url": "https://127.0.0.1/page", "domain": "127.0.0.1"},
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    media_types: tuple[str, ...]
    query: tuple[str, ...]

    def url(self, segment: str = "x", query: str = "") -> str:
        path = re.sub(r"\{[^}]+\}", segment, self.path)
        return path + (f"?{query}" if query else "")


def operations(app: FastAPI) -> list[Operation]:
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, spec in item.items():
            content = spec.get("requestBody", {}).get("content", {})
            query = tuple(p["name"] for p in spec.get("parameters", []) if p["in"] == "query")
            found.append(Operation(method, path, tuple(content), query))
    return found


@dataclass
class Tally:
    client: TestClient
    headers: dict[str, str]
    sent: int = 0

    def __post_init__(self) -> None:
        self.errors: list[tuple[str, str, str, int, str]] = []

    def send(
        self,
        label: str,
        op: Operation,
        url: str,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> None:
        headers = dict(self.headers)
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = self.client.request(op.method.upper(), url, content=body, headers=headers)
        self.sent += 1
        if response.status_code >= 500:
            self.errors.append(
                (op.method, op.path, label, response.status_code, response.text[:300])
            )


def _with_field(base: dict[str, Any], field: str, value: str) -> bytes:
    """``base`` as JSON text with ``field`` set to the JSON text ``value``."""
    marker = "\u2063FIELD\u2063"
    text = json.dumps({**base, field: marker})
    return text.replace(json.dumps(marker), value).encode()


def test_the_corpus_covers_every_json_operation(app: FastAPI) -> None:
    # A new JSON operation gets a base body here, or its fields go unfuzzed.
    json_operations = {
        (op.method, op.path) for op in operations(app) if "application/json" in op.media_types
    }
    assert json_operations == set(BASE_BODIES)


def test_hostile_corpus_never_gets_a_server_error(
    app: FastAPI, fuzz_client: TestClient, admin_auth: dict[str, str]
) -> None:
    tally = Tally(fuzz_client, admin_auth)
    for op in operations(app):
        # Every field of the body, one at a time.
        base = BASE_BODIES.get((op.method, op.path))
        if base is not None:
            for field in base:
                for label, value in HOSTILE_VALUES.items():
                    body = _with_field(base, field, value)
                    tally.send(f"{field}={label}", op, op.url(), body, "application/json")
        # Whole bodies, as JSON and as what the operation declares.
        for media in (
            "application/json",
            *op.media_types,
            "multipart/form-data; boundary=x",
            "text/plain",
        ):
            for label, body in HOSTILE_BODIES.items():
                tally.send(f"body {label} as {media}", op, op.url(), body, media)
        # Path and query parameters.
        if "{" in op.path:
            for label, segment in HOSTILE_SEGMENTS.items():
                tally.send(f"path {label}", op, op.url(segment))
        for name in op.query:
            for label, value in HOSTILE_QUERY.items():
                tally.send(f"query {name}={label}", op, op.url(query=f"{name}={value}"))
        tally.send("unknown query", op, op.url(query="%00=%00&a=" + "b" * 4000))
    assert tally.sent > 2000
    assert tally.errors == []


HOSTILE_HEADERS: dict[str, tuple[str, str | bytes]] = {
    "bearer of 10k": ("Authorization", "Bearer " + "a" * 10_000),
    "bearer not ascii": ("Authorization", b"Bearer ntk_live_\xff\xfe"),
    "l402 garbage": ("Authorization", "L402 !!!:zz"),
    "jwt garbage": ("Authorization", "Bearer eyJ.eyJ.sig"),
    "blank authorization": ("Authorization", " "),
    "idempotency key of 10k": ("Idempotency-Key", "k" * 10_000),
    "request id with DEL": ("X-Request-Id", "\x7f" * 10),
    "unterminated boundary": ("Content-Type", 'multipart/form-data; boundary="'),
    "accept garbage": ("Accept", "*/*;q=NaN"),
    "forwarded garbage": ("X-Forwarded-For", "not-an-ip, ::zz"),
}


def test_hostile_headers_never_get_a_server_error(app: FastAPI, fuzz_client: TestClient) -> None:
    tally = Tally(fuzz_client, {})
    for op in operations(app):
        for label, (name, value) in HOSTILE_HEADERS.items():
            tally.headers = {name: value}  # type: ignore[dict-item]
            tally.send(f"header {label}", op, op.url(), b"{}")
    assert tally.errors == []
