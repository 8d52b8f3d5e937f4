"""Batching and anchor progress against in-process anchors, on each backend."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import Tenant
from notarium.adapters.store.models import Batch, BatchAnchor, Record
from notarium.app.runtime import Runtime
from notarium.core.clock import FrozenClock
from notarium.formats.merkle import proof_from_json, root_from_proof
from notarium.ledger.accounts.plans import plan_named
from notarium.ledger.anchoring.policy import AnchorPolicy
from notarium.ledger.anchoring.service import AnchoringService
from notarium.ledger.anchoring.simulated import FakeAnchor
from notarium.ledger.records.values import NewRecord, Owner

POLICY = AnchorPolicy(
    batch_interval=60,
    upgrade_interval=30,
    retry_limit=3,
    retry_base=5,
    retry_max=40,
    lease_seconds=20,
    min_calendars=2,
)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


def service(
    runtime: Runtime, clock: FrozenClock, *anchors: FakeAnchor, policy: AnchorPolicy = POLICY
) -> AnchoringService:
    return AnchoringService(runtime.sessions, clock, list(anchors), policy)


def seed(runtime: Runtime, tenant: Tenant, count: int, mode: str = "live") -> list[str]:
    owner = Owner(tenant.account_id, mode)
    return [
        runtime.records.create(
            owner,
            plan_named("pro"),
            NewRecord(hashlib.sha256(f"{mode}{i}".encode()).hexdigest(), f"f{i}", 1),
        ).id
        for i in range(count)
    ]


def statuses(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions() as session:
        return {r.id: r.status for r in session.scalars(select(Record))}


def test_one_batch_per_interval_with_valid_paths(
    runtime: Runtime, tenant: Tenant, clock: FrozenClock
) -> None:
    ids = seed(runtime, tenant, 7)
    anchoring = service(runtime, clock, FakeAnchor("fake:a"), FakeAnchor("fake:b"))
    (batch_id,) = anchoring.run_batcher()
    assert set(statuses(runtime).values()) == {"anchoring"}
    with runtime.sessions() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None and batch.leaf_count == 7
        for record in session.scalars(select(Record)):
            assert record.batch_id == batch_id and record.merkle_path is not None
            proof = proof_from_json(record.merkle_path)
            assert proof.digest.hex() == record.sha256
            assert root_from_proof(proof) == batch.root
        anchors = session.scalars(select(BatchAnchor)).all()
        assert sorted(a.name for a in anchors) == ["fake:a", "fake:b"]
        assert {a.state for a in anchors} == {"submitting"}
    # Not yet time for another batch, whatever arrives meanwhile.
    seed(runtime, tenant, 1, mode="test")
    assert anchoring.run_batcher() == []
    clock.advance(timedelta(seconds=61))
    assert len(anchoring.run_batcher()) == 1  # the test-mode record, in its own batch
    assert len(ids) == 7


def test_records_reach_confirmed(
    runtime: Runtime, tenant: Tenant, clock: FrozenClock, client: TestClient
) -> None:
    ids = seed(runtime, tenant, 3)
    a, b = FakeAnchor("fake:a", upgrades_needed=2), FakeAnchor("fake:b", upgrades_needed=5)
    anchoring = service(runtime, clock, a, b)
    anchoring.run_batcher()
    assert anchoring.progress_anchors() == 2
    assert len(a.submitted) == len(b.submitted) == 1
    assert anchoring.progress_anchors() == 0  # nothing due until the upgrade interval
    for _ in range(2):
        clock.advance(timedelta(seconds=31))
        anchoring.progress_anchors()
    assert set(statuses(runtime).values()) == {"confirmed"}
    body = client.get(f"/api/v1/timestamps/{ids[0]}", headers=tenant.auth).json()
    assert body["status"] == "confirmed"
    assert body["bitcoin_block"] == 900_000 and body["blockchain_tx"] == "ab" * 32
    assert body["confirmed_at"] is not None
    confirmed = client.get("/api/v1/timestamps?status=confirmed", headers=tenant.auth).json()
    assert confirmed["total_count"] == 3
    pending = client.get("/api/v1/timestamps?status=pending", headers=tenant.auth).json()
    assert pending["total_count"] == 0


def test_failures_back_off_then_recover(
    runtime: Runtime, tenant: Tenant, clock: FrozenClock
) -> None:
    seed(runtime, tenant, 2)
    flaky = FakeAnchor("fake:flaky", failures=2, upgrades_needed=0)
    anchoring = service(runtime, clock, flaky, policy=POLICY)
    anchoring.run_batcher()
    anchoring.progress_anchors()
    with runtime.sessions() as session:
        row = session.scalars(select(BatchAnchor)).one()
        assert (row.state, row.attempts) == ("submitting", 1)
        assert row.last_error and "unreachable" in row.last_error
        assert row.next_attempt_at.replace(tzinfo=UTC) == clock.now() + timedelta(seconds=5)
    clock.advance(timedelta(seconds=5))
    anchoring.progress_anchors()
    with runtime.sessions() as session:
        row = session.scalars(select(BatchAnchor)).one()
        assert row.attempts == 2
        assert row.next_attempt_at.replace(tzinfo=UTC) == clock.now() + timedelta(seconds=10)
    assert set(statuses(runtime).values()) == {"anchoring"}
    clock.advance(timedelta(seconds=10))
    anchoring.progress_anchors()
    assert set(statuses(runtime).values()) == {"confirmed"}


def test_exhausted_retries_fail_the_batch(
    runtime: Runtime, tenant: Tenant, clock: FrozenClock
) -> None:
    seed(runtime, tenant, 2)
    dead = FakeAnchor("fake:dead", failures=99)
    anchoring = service(runtime, clock, dead)
    anchoring.run_batcher()
    for _ in range(3):
        anchoring.progress_anchors()
        clock.advance(timedelta(seconds=60))
    assert set(statuses(runtime).values()) == {"failed"}
    with runtime.sessions() as session:
        row = session.scalars(select(BatchAnchor)).one()
        assert row.state == "failed" and row.attempts == 3


def test_m_of_n_calendars(runtime: Runtime, tenant: Tenant, clock: FrozenClock) -> None:
    seed(runtime, tenant, 1)
    calendars = [
        FakeAnchor(f"fake:{n}", failures=99 if n < 2 else 0, upgrades_needed=50) for n in range(3)
    ]
    anchoring = service(runtime, clock, *calendars)
    anchoring.run_batcher()
    for _ in range(3):
        anchoring.progress_anchors()
        clock.advance(timedelta(seconds=60))
    # Two of three calendars are gone, one still waits: fewer than m=2 remain.
    assert set(statuses(runtime).values()) == {"failed"}


def test_a_lost_claim_lapses_and_is_picked_up(
    runtime: Runtime, tenant: Tenant, clock: FrozenClock
) -> None:
    seed(runtime, tenant, 1)
    anchor = FakeAnchor("fake:a", upgrades_needed=0)
    anchoring = service(runtime, clock, anchor)
    anchoring.run_batcher()
    # A worker claims the row and dies before doing anything.
    assert len(anchoring._claim_due(10)) == 1
    assert anchoring.progress_anchors() == 0
    clock.advance(timedelta(seconds=21))
    assert anchoring.progress_anchors() == 1
    assert set(statuses(runtime).values()) == {"confirmed"}


def test_without_anchors_records_stay_pending(
    runtime: Runtime, tenant: Tenant, clock: FrozenClock
) -> None:
    seed(runtime, tenant, 2)
    assert service(runtime, clock).run_batcher() == []
    assert set(statuses(runtime).values()) == {"pending"}
