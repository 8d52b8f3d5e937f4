"""Races: concurrent creates of one hash, one Idempotency-Key from many workers, and two
server instances sharing a database and Redis (the scaled mode)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backends import REDIS_URL, postgres_available, postgres_schema, redis_available
from conftest import Tenant, make_tenant
from notarium.adapters.store import migrate
from notarium.adapters.store.models import Record
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app

DIGEST = hashlib.sha256(b"race").hexdigest()


def _post(client: TestClient, tenant: Tenant, digest: str = DIGEST, key: str | None = None) -> int:
    headers = {**tenant.auth, **({"Idempotency-Key": key} if key else {})}
    response = client.post(
        "/api/v1/timestamps",
        headers=headers,
        json={"sha256_hash": digest, "filename": "race.bin", "file_size_bytes": 4},
    )
    return response.status_code


def test_same_hash_from_many_workers(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: _post(client, tenant), range(12)))
    assert statuses.count(201) == 1
    assert set(statuses) <= {201, 409}
    with runtime.sessions() as session:
        assert session.query(Record).count() == 1


def test_same_idempotency_key_from_many_workers(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: _post(client, tenant, key="once"), range(12)))
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    with runtime.sessions() as session:
        assert session.query(Record).count() == 1


@pytest.mark.skipif(
    not (postgres_available() and redis_available()),
    reason="the scaled mode needs PostgreSQL and Redis",
)
def test_two_servers_share_limits_serials_and_records(tmp_path: Path) -> None:
    with postgres_schema() as url:
        settings = Settings(
            data_dir=tmp_path,
            database_url=url,
            redis_url=REDIS_URL,
            redis_prefix=f"nt-{uuid.uuid4().hex}",
        )
        runtime = build_runtime(settings)
        migrate.upgrade(runtime.engine)
        try:
            _two_servers(runtime, make_tenant(runtime))
        finally:
            runtime.close()


def _two_servers(runtime: Runtime, tenant: Tenant) -> None:
    second = build_runtime(runtime.settings)
    try:
        with TestClient(create_app(runtime)) as one, TestClient(create_app(second)) as two:

            def post(i: int) -> int:
                client = one if i % 2 else two
                return _post(client, tenant, hashlib.sha256(str(i).encode()).hexdigest())

            with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
                statuses = list(pool.map(post, range(36)))
            # 30 creates per key per minute, counted across both instances in Redis.
            assert statuses.count(201) == 30
            assert statuses.count(429) == 6
            listing = one.get("/api/v1/timestamps?limit=50", headers=tenant.auth).json()
            assert listing["total_count"] == 30
            assert json.dumps(listing) == json.dumps(
                two.get("/api/v1/timestamps?limit=50", headers=tenant.auth).json()
            )
        with runtime.sessions() as session:
            serials = [r.tsa_serial for r in session.query(Record).all()]
        assert len(set(serials)) == 30
    finally:
        second.close()
