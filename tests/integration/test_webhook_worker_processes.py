"""Webhook deliveries survive `notarium worker` processes killed with SIGKILL while they
are sending: every event reaches the receiver at least once, and nothing stays pending."""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from receivers import Receiver
from server import NOTARIUM, server_env
from sqlalchemy import func, select

from conftest import make_tenant
from notarium.adapters.store import migrate
from notarium.adapters.store.models import WebhookDelivery, WebhookEvent
from notarium.app.runtime import build_runtime
from notarium.app.settings import Settings
from notarium.ledger.accounts.plans import plan_named
from notarium.ledger.records.values import NewRecord, Owner
from readiness import DEADLINE, reap

pytestmark = pytest.mark.slow


def test_killed_delivery_workers_lose_nothing(
    process_database_url: str | None, tmp_path: Path
) -> None:
    database_url = process_database_url
    data_dir = tmp_path / "data"
    extra = {
        "NOTARIUM_EGRESS_ALLOWLIST": "127.0.0.1",
        "NOTARIUM_WEBHOOK_HTTPS_ONLY": "false",
        "NOTARIUM_WEBHOOK_TIMEOUT": "1",
        "NOTARIUM_WORKER_POLL_INTERVAL": "0.05",
        "NOTARIUM_TEST_SIMULATED_ANCHOR": "false",
    }
    if database_url:
        extra["NOTARIUM_DATABASE_URL"] = database_url
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        ots_calendars=[],
        embedded_workers=False,
        egress_allowlist=["127.0.0.1"],
        webhook_https_only=False,
        test_simulated_anchor=False,
    )
    runtime = build_runtime(settings)
    migrate.upgrade(runtime.engine)
    rng = random.Random(11)
    workers: list[subprocess.Popen[bytes]] = []
    env = server_env(data_dir, **extra)

    def start() -> None:
        workers.append(
            subprocess.Popen(
                [NOTARIUM, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )

    try:
        with Receiver(delay=0.1) as receiver:
            tenant = make_tenant(runtime, plan="business")
            runtime.webhooks.create(
                tenant.account_id, url=receiver.url, events=["certificate.created"], mode="live"
            )
            owner = Owner(tenant.account_id, "live")
            for i in range(60):
                runtime.records.create(
                    owner,
                    plan_named("business"),
                    NewRecord(hashlib.sha256(f"event {i}".encode()).hexdigest(), "f", 1),
                )
            start()
            start()
            # Kill a worker each time another handful of deliveries has landed, so the
            # kills fall while deliveries are in flight, not while a worker starts up.
            kills = 0
            wait_until = time.monotonic() + DEADLINE
            while kills < 4 and time.monotonic() < wait_until:
                if len(receiver.received) >= 8 * (kills + 1):
                    victim = workers.pop(rng.randrange(len(workers)))
                    victim.send_signal(signal.SIGKILL)
                    reap(victim)
                    kills += 1
                    start()
                time.sleep(0.02)
            assert kills == 4, f"only {len(receiver.received)} deliveries arrived"
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline:
                with runtime.sessions() as session:
                    pending = session.scalar(
                        select(func.count())
                        .select_from(WebhookDelivery)
                        .where(WebhookDelivery.state != "delivered")
                    )
                if pending == 0:
                    break
                time.sleep(0.2)
            else:
                pytest.fail(f"{pending} deliveries never completed")
            with runtime.sessions() as session:
                event_ids = set(session.scalars(select(WebhookEvent.id)))
            got = {r.headers["webhook-id"] for r in receiver.received}
            assert len(event_ids) == 60 and got == event_ids
            assert all(
                json.loads(r.body)["event"] == "certificate.created" for r in receiver.received
            )
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            reap(worker)
        runtime.close()
