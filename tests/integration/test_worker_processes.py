"""`notarium worker` processes killed with SIGKILL at random moments lose nothing and
leave nothing stuck: every record ends confirmed, batched exactly once, in the log once."""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from server import NOTARIUM, server_env
from sqlalchemy import func, select

from conftest import make_tenant
from fakes.calendar import FakeCalendar
from fakes.chain import FakeChain
from notarium.adapters.store import migrate
from notarium.adapters.store.models import Batch, LogCheckpoint, LogLeaf, Record
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.formats.merkle import proof_from_json, root_from_proof
from notarium.ledger.accounts.plans import plan_named
from notarium.ledger.records.values import NewRecord, Owner
from readiness import DEADLINE, reap

pytestmark = pytest.mark.slow


def test_sigkilled_workers_lose_nothing(process_database_url: str | None, tmp_path: Path) -> None:
    database_url = process_database_url
    chain = FakeChain()
    with FakeCalendar(chain) as calendar:
        extra = {
            "NOTARIUM_OTS_CALENDARS": calendar.url,
            "NOTARIUM_OTS_MIN_CALENDARS": "1",
            "NOTARIUM_BATCH_INTERVAL": "0.3",
            "NOTARIUM_OTS_UPGRADE_INTERVAL": "0.2",
            "NOTARIUM_WORKER_POLL_INTERVAL": "0.05",
            "NOTARIUM_ANCHOR_LEASE_SECONDS": "2",
            "NOTARIUM_ANCHOR_RETRY_BASE": "0.2",
        }
        if database_url:
            extra["NOTARIUM_DATABASE_URL"] = database_url
        data_dir = tmp_path / "data"
        env = server_env(data_dir, **extra)
        settings = Settings(
            data_dir=data_dir,
            database_url=database_url,
            ots_calendars=[calendar.url],
            embedded_workers=False,
        )
        runtime = build_runtime(settings)
        migrate.upgrade(runtime.engine)
        try:
            _exercise(runtime, env, calendar, tmp_path)
        finally:
            runtime.close()


def _exercise(
    runtime: Runtime, env: dict[str, str], calendar: FakeCalendar, tmp_path: Path
) -> None:
    owner = Owner(make_tenant(runtime, plan="business").account_id, "live")
    rng = random.Random(7)
    workers: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "workers.log"

    def start() -> None:
        with logs.open("ab") as handle:
            workers.append(
                subprocess.Popen(
                    [NOTARIUM, "worker"], env=env, stdout=handle, stderr=subprocess.STDOUT
                )
            )

    created = 0

    def create(count: int) -> None:
        nonlocal created
        for _ in range(count):
            digest = hashlib.sha256(f"record {created}".encode()).hexdigest()
            runtime.records.create(owner, plan_named("business"), NewRecord(digest, "f", 1))
            created += 1

    try:
        start()
        start()
        kills = 0
        deadline = time.monotonic() + DEADLINE
        while kills < 8 and time.monotonic() < deadline:
            create(rng.randint(5, 25))
            time.sleep(rng.uniform(0.05, 0.6))
            victim = rng.randrange(len(workers))
            workers[victim].send_signal(signal.SIGKILL)
            reap(workers.pop(victim))
            kills += 1
            if rng.random() < 0.5:
                calendar.stamp_pending()
            start()
        assert kills == 8
        create(10)
        # Let the survivors finish: everything must end confirmed without intervention.
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            calendar.stamp_pending()
            if _all_done(runtime, created):
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"records were left behind: {_state(runtime)}\n{logs.read_text()[-3000:]}")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            reap(worker)

    with runtime.sessions() as session:
        records = session.scalars(select(Record)).all()
        batches = {b.id: b for b in session.scalars(select(Batch))}
        assert len(records) == created
        # Each record in exactly one batch, and each batch holds exactly its records.
        assert sum(b.leaf_count for b in batches.values()) == created
        for record in records:
            assert record.status == "confirmed" and record.bitcoin_block is not None
            assert record.merkle_path is not None and record.batch_id in batches
            assert (
                root_from_proof(proof_from_json(record.merkle_path))
                == batches[record.batch_id].root
            )
        # The log: dense indices, one per record, and a checkpoint at its full size.
        indices = sorted(r.log_index for r in records if r.log_index is not None)
        assert indices == list(range(created))
        assert session.scalar(select(func.count()).select_from(LogLeaf)) == created
        assert session.scalar(select(func.max(LogCheckpoint.size))) == created


def _all_done(runtime: Runtime, created: int) -> bool:
    with runtime.sessions() as session:
        confirmed = session.scalar(
            select(func.count()).select_from(Record).where(Record.status == "confirmed")
        )
        logged = session.scalar(select(func.count()).select_from(LogLeaf))
    return confirmed == created and logged == created


def _state(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        rows = session.execute(select(Record.status, func.count()).group_by(Record.status))
        return {status: count for status, count in rows}
