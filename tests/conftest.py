"""Fixtures shared by the integration tests: a runtime on each available backend, an
app, a test client and an account with a key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings

from backends import REDIS_URL, postgres_available, postgres_schema, redis_available
from fakes.clamd import clamd_daemon  # noqa: F401 - one real clamd for the session, on demand
from notarium.adapters.store import migrate
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app

# Property tests judge correctness, not speed: a loaded 2-core CI machine must not turn a
# slow example into a failure.
hypothesis_settings.register_profile("notarium", deadline=None)
hypothesis_settings.load_profile("notarium")

_PG = postgres_available()
_REDIS = redis_available()

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(not (_PG and _REDIS), reason="PostgreSQL/Redis not reachable"),
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    base = {
        "data_dir": tmp_path / "data",
        "base_url": "http://testserver",
        # Tests reach only loopback: no public calendars, and background loops only
        # where a test starts them itself.
        "ots_calendars": [],
        "embedded_workers": False,
    }
    if backend == "sqlite":
        yield Settings(**base)
        return
    with postgres_schema() as url:
        yield Settings(
            **base,
            database_url=url,
            redis_url=REDIS_URL,
            redis_prefix=f"nt-{uuid.uuid4().hex}",
        )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    migrate.upgrade(rt.engine)
    yield rt
    rt.close()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class Tenant:
    account_id: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_tenant(runtime: Runtime, plan: str = "pro", name: str | None = None) -> Tenant:
    account, issued = runtime.accounts.create_account(name or f"acct-{uuid.uuid4().hex[:8]}", plan)
    return Tenant(account.id, issued.secret)


@pytest.fixture
def tenant(runtime: Runtime) -> Tenant:
    return make_tenant(runtime)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not _PG, reason="PostgreSQL not reachable"),
        ),
    ]
)
def process_database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """For tests that start server or worker processes: None means the embedded SQLite
    default; otherwise a URL to a private PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    with postgres_schema() as url:
        yield url
