"""URLs that no HTTP client or browser should be handed, sent to the coverage check and
to a capture: IPv4 addresses in the legacy notations browsers and the C resolver still
read (octal, hex, fewer than four parts, one number), IPv4-mapped IPv6 loopback, hosts
DNS cannot hold, bad ports, malformed IDNA. Each is a 400 ``invalid_url`` in the web
capture family's envelope; none is resolved, fetched or captured."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import Tenant, make_tenant
from fakes.capture_engine import ScriptedEngine, with_scripted_captures
from notarium.app.runtime import Runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app
from unit.evidence.captures import sample_capture

HOSTILE = [
    "http://0177.0.0.2/",
    "https://0177.0.0.2/",
    "http://0x7f.1/",
    "https://0x7f.0.0.2/",
    "https://0X7F000002/",
    "https://2130706434/",
    "https://127.1/",
    "https://0/",
    "https://127.0.0.2./",
    "http://[::ffff:127.0.0.2]/",
    "https://[::ffff:7f00:2]/",
    "https://[::ffff:127.0.0.2%25eth0]/",
    "https://[::1/",
    "https://[zz]/",
    "https://" + "a" * 64 + ".example/",
    "https://" + ("a" * 63 + ".") * 4 + "example/",
    "https://a..example/",
    "https://./",
    "https://127.0.0.2:99999/",
    "https://127.0.0.2:-1/",
    "https://127.0.0.2:http/",
    "https://127.0.0.2:0/",
    "https://xn--/",
    "https://xn--a.example/",
    "https://\u2024.example/",
    "https://\U0001f600.example/",
    "https:///no-host",
    "https://%31%32%37.0.0.2/",
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limits_enabled": False})


@pytest.fixture
def engine() -> ScriptedEngine:
    return ScriptedEngine(default=lambda url: sample_capture(requested_url=url))


@pytest.fixture
def capture_runtime(runtime: Runtime, engine: ScriptedEngine) -> Runtime:
    # No allowlist, and a resolver that knows no name: nothing here may be looked up,
    # let alone reached, for any of these URLs to pass.
    return with_scripted_captures(runtime, engine, allowlist=())


@pytest.fixture
def api(capture_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(capture_runtime), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def pro(capture_runtime: Runtime) -> Tenant:
    return make_tenant(capture_runtime, "business")


def _refused(response: object, url: str) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert status == 400, (url, body)
    assert set(body) == {"error", "message", "requestId"}, (url, body)
    assert body["error"] == "invalid_url", (url, body)


def test_hostile_urls_are_refused_by_the_coverage_check(api: TestClient, pro: Tenant) -> None:
    for url in HOSTILE:
        _refused(api.post("/api/v1/coverage", json={"url": url}, headers=pro.auth), url)
    for domain in ("0177.0.0.2", "0x7f.1", "2130706434", "xn--"):
        _refused(api.post("/api/v1/coverage", json={"domain": domain}, headers=pro.auth), domain)


def test_hostile_urls_are_never_captured(
    api: TestClient, pro: Tenant, engine: ScriptedEngine
) -> None:
    for url in HOSTILE:
        _refused(api.post("/api/v1/certificates", json={"url": url}, headers=pro.auth), url)
    assert engine.urls == []
