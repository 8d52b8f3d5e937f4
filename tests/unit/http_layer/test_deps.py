"""Routes declare the services they use; each comes from the app's one runtime."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.testclient import TestClient

from notarium.http.deps import Records, Seal, provide


def test_a_service_dependency_reads_the_apps_runtime() -> None:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(records="the records", seal="the seal")

    @app.get("/")
    def route(records: Records, seal: Seal) -> dict[str, object]:
        return {"records": records, "seal": seal}

    with TestClient(app) as client:
        assert client.get("/").json() == {"records": "the records", "seal": "the seal"}


def test_provide_calls_its_getter_per_request() -> None:
    calls: list[object] = []

    def getter(runtime: object) -> object:
        calls.append(runtime)
        return "value"

    dependency = provide(getter)
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(runtime="rt")))
    assert asyncio.run(dependency(request)) == "value"  # type: ignore[arg-type]
    assert calls == ["rt"]
