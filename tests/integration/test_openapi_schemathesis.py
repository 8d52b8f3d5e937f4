"""Property-based conformance of the whole HTTP API with its own OpenAPI document.

Schemathesis generates requests for every operation in ``/openapi.json`` and sends them
in-process through the ASGI app, authenticated as an ordinary account. Every response
must be a non-5xx whose status code, content type, headers and body the document
declares: a client generated from the published schema must never meet an answer it
was not told about.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import Tenant
from fakes.capture_engine import ScriptedEngine, with_scripted_captures
from notarium.app.runtime import Runtime
from notarium.http.app import create_app
from unit.evidence.captures import sample_capture

# What the schema promises, rather than every heuristic schemathesis ships (e.g. whether
# an arbitrary unknown query parameter must be rejected), which the document is silent on.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# A TimeStampReq is opaque DER; without a serializer schemathesis refuses to send one.
schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")
schemathesis.serializer.alias("application/ocsp-request", "application/octet-stream")


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    """The app with web captures behind a scripted engine and a resolver that sends every
    name to loopback: generated URLs such as ``https://0.com`` never reach DNS, a browser
    or another machine."""
    engine = ScriptedEngine(default=lambda url: sample_capture(requested_url=url))
    return create_app(with_scripted_captures(runtime, engine, otherwise="127.0.0.1"))


@pytest.fixture
def api_schema(app: FastAPI, request: pytest.FixtureRequest) -> Any:
    # schemathesis' lazy loader still reads and rewrites `node._nodeid`, which pytest 9
    # no longer has; giving the node one keeps the loader working and is inert otherwise.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    # Built per test from the function-scoped, backend-parametrized app, so each backend
    # is exercised against the document that exact app serves.
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def known_values(client: TestClient, tenant: Tenant) -> dict[str, str]:
    """Path values of a real record: random ids only ever reach the 404 branch, so the
    responses that carry data (the record, its token, its proof, its public page) are
    checked with these as well."""
    response = client.post(
        "/api/v1/timestamps",
        json={
            "sha256_hash": "5f" * 32,
            "filename": "contract.pdf",
            "file_size_bytes": 1234,
            "file_type": "application/pdf",
        },
        headers=tenant.auth,
    )
    assert response.status_code == 201, response.text
    record = response.json()
    return {
        "timestamp_id": record["id"],
        "sha256": record["sha256_hash"],
        "certificate_id": record["certificate_id"],
    }


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    # Each case is a real request against a real database, so generation is slow by
    # Hypothesis' standards, and the function-scoped fixtures are deliberately shared by
    # every example of one backend.
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_openapi_document(
    case: Any, tenant: Tenant, known_values: dict[str, str]
) -> None:
    case.call_and_validate(headers=tenant.auth, checks=CHECKS)

    path_parameters = case.path_parameters or {}
    if not isinstance(path_parameters, dict) or not path_parameters.keys() & known_values:
        return
    # Only well-formed requests are worth aiming at the record: an invalid query or an
    # unsupported method gets the same answer whichever record it names.
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if not positive or case.method.upper() != case.operation.method.upper():
        return
    # The same request aimed at the real record, once as a browser and once as an API
    # client would ask, since the public pages answer HTML or JSON by Accept.
    for accept in ("*/*", "application/json"):
        real = case.operation.Case(
            method=case.method,
            path_parameters={
                name: known_values.get(name, v) for name, v in path_parameters.items()
            },
            query=case.query,
            body=case.body,
            media_type=case.media_type,
        )
        real.call_and_validate(headers={**tenant.auth, "Accept": accept}, checks=CHECKS)
