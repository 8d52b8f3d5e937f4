"""Webhook endpoints and deliveries: signed two ways, retried, leased, never lost."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from receivers import Receiver
from server import free_port
from sqlalchemy import select

from conftest import Tenant, make_tenant
from notarium.adapters.egress.policy import EgressPolicy
from notarium.adapters.pki.secretbox import SecretBox
from notarium.adapters.store import migrate
from notarium.adapters.store.models import WebhookDelivery
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.core.clock import FrozenClock
from notarium.http.app import create_app
from notarium.ledger.anchoring.policy import AnchorPolicy
from notarium.ledger.anchoring.service import AnchoringService
from notarium.ledger.anchoring.simulated import FakeAnchor
from notarium.notify.webhooks import verify
from notarium.notify.webhooks.delivery import HttpxWebhookSender
from notarium.notify.webhooks.service import WebhookPolicy, WebhookService

EVENTS = [
    "certificate.created",
    "certificate.anchoring",
    "certificate.confirmed",
    "certificate.failed",
]
METADATA = {"customerId": "cust_abc123", "orderId": "ord_xyz789"}


@pytest.fixture
def local(settings: Settings) -> Iterator[tuple[Runtime, TestClient, Tenant]]:
    """A runtime whose webhooks may reach 127.0.0.1 (and nothing else private)."""
    configured = settings.model_copy(
        update={
            "egress_allowlist": ["127.0.0.1"],
            "webhook_https_only": False,
            "webhook_timeout": 1.0,
        }
    )
    runtime = build_runtime(configured)
    migrate.upgrade(runtime.engine)
    with TestClient(create_app(runtime)) as client:
        yield runtime, client, make_tenant(runtime)
    runtime.close()


def register(
    client: TestClient, tenant: Tenant, url: str, events: list[str] = EVENTS
) -> dict[str, str]:
    response = client.post(
        "/v1/webhooks", headers=tenant.auth, json={"url": url, "events": events, "mode": "live"}
    )
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def certify(client: TestClient, tenant: Tenant, content: bytes) -> dict[str, object]:
    response = client.post(
        "/v1/certificates",
        headers=tenant.auth,
        json={
            "sha256Hash": hashlib.sha256(content).hexdigest(),
            "fileName": "doc.pdf",
            "fileSize": len(content),
            "metadata": METADATA,
        },
    )
    assert response.status_code == 201
    body: dict[str, object] = response.json()
    return body


def test_crud_and_validation(client: TestClient, tenant: Tenant, runtime: Runtime) -> None:
    created = register(client, tenant, "https://hooks.example/notarium")
    assert created["secret"].startswith("whsec_") and created["active"] is True
    fetched = client.get(f"/v1/webhooks/{created['id']}", headers=tenant.auth).json()
    assert "secret" not in fetched and fetched["url"] == "https://hooks.example/notarium"
    listed = client.get("/v1/webhooks", headers=tenant.auth).json()["data"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in json.dumps(listed)
    patched = client.patch(
        f"/v1/webhooks/{created['id']}",
        headers=tenant.auth,
        json={"active": False, "events": ["certificate.failed"]},
    ).json()
    assert patched["active"] is False and patched["events"] == ["certificate.failed"]
    for bad in (
        {"url": "http://hooks.example/x", "events": EVENTS, "mode": "live"},
        {"url": "ftp://x", "events": EVENTS},
        {"url": "https://x.example", "events": ["certificate.exploded"]},
        {"url": "https://x.example", "events": []},
        {"url": "https://user:pw@x.example", "events": EVENTS},
    ):
        response = client.post("/v1/webhooks", headers=tenant.auth, json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "invalid_webhook"
    no_scope = runtime.accounts.create_key(tenant.account_id, scopes=["certificates:write"])
    refused = client.post(
        "/v1/webhooks",
        json={"url": "https://x.example", "events": EVENTS},
        headers={"Authorization": f"Bearer {no_scope.secret}"},
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"
    other = make_tenant(runtime)
    assert client.get(f"/v1/webhooks/{created['id']}", headers=other.auth).status_code == 404
    assert client.delete(f"/v1/webhooks/{created['id']}", headers=other.auth).status_code == 404
    assert client.delete(f"/v1/webhooks/{created['id']}", headers=tenant.auth).status_code == 204
    assert client.get(f"/v1/webhooks/{created['id']}", headers=tenant.auth).status_code == 404


def test_lifecycle_events_arrive_signed_both_ways(
    local: tuple[Runtime, TestClient, Tenant],
) -> None:
    runtime, client, tenant = local
    with Receiver() as receiver:
        hook = register(client, tenant, receiver.url)
        cert = certify(client, tenant, b"board minutes")
        clock = FrozenClock(datetime.now(UTC))
        anchoring = AnchoringService(
            runtime.sessions,
            clock,
            [FakeAnchor("fake:a", upgrades_needed=0)],
            AnchorPolicy(),
            events=runtime.records.events,
        )
        anchoring.run_batcher()
        anchoring.progress_anchors()
        assert runtime.webhooks.deliver_due() == 3
        events = [json.loads(r.body) for r in receiver.received]
        assert [e["event"] for e in events] == EVENTS[:3]
        for received, event in zip(receiver.received, events, strict=True):
            verify(secret=hook["secret"], headers=received.headers, body=received.body)
            expected = hmac.new(hook["secret"].encode(), received.body, hashlib.sha256).hexdigest()
            assert received.headers["X-Provelio-Signature"] == expected
            assert received.headers["X-Notarium-Signature"] == expected
            data = event["data"]
            assert data["certificateId"] == cert["certificateId"]
            assert data["publicId"] == cert["publicId"] and data["metadata"] == METADATA
            assert data["testMode"] is False and data["fileName"] == "doc.pdf"
        assert [e["data"]["status"] for e in events] == ["created", "anchoring", "confirmed"]
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert len(set(ids)) == 3
        log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=tenant.auth).json()
        assert {d["state"] for d in log["data"]} == {"delivered"}
        assert all(d["attempts"][0]["status"] == 200 for d in log["data"])
        # A redelivery carries the same webhook-id, so receivers can drop the duplicate.
        first = log["data"][-1]
        assert (
            client.post(
                f"/v1/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver", headers=tenant.auth
            ).status_code
            == 202
        )
        runtime.webhooks.deliver_due()
        assert receiver.received[-1].headers["webhook-id"] == first["eventId"]


def test_timestamps_api_records_emit_the_same_events(
    local: tuple[Runtime, TestClient, Tenant],
) -> None:
    runtime, client, tenant = local
    with Receiver() as receiver:
        register(client, tenant, receiver.url, ["certificate.created"])
        client.post(
            "/api/v1/timestamps",
            headers=tenant.auth,
            json={"sha256_hash": "ab" * 32, "filename": "a.txt", "file_size_bytes": 3},
        )
        runtime.webhooks.deliver_due()
        (event,) = [json.loads(r.body) for r in receiver.received]
        assert event["event"] == "certificate.created" and event["data"]["sha256Hash"] == "ab" * 32


def _service(runtime: Runtime, clock: FrozenClock, timeout: float = 1.0) -> WebhookService:
    return WebhookService(
        runtime.sessions,
        clock,
        SecretBox(runtime.settings.keys_dir),
        HttpxWebhookSender(EgressPolicy(["127.0.0.1"]), timeout=timeout),
        WebhookPolicy(timeout=timeout, disable_after=4, https_only_live=False),
    )


def _deliveries(runtime: Runtime) -> list[WebhookDelivery]:
    with runtime.sessions() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


@pytest.mark.parametrize("fault", ["500", "reset", "slow", "down"])
def test_faults_retry_on_schedule_and_nothing_is_lost(
    local: tuple[Runtime, TestClient, Tenant], fault: str
) -> None:
    runtime, client, tenant = local
    failing = {"500": lambda: (500, {}), "reset": lambda: None}.get(fault, lambda: (200, {}))
    with Receiver(respond=failing, delay=2.0 if fault == "slow" else 0.0) as receiver:
        url = receiver.url if fault != "down" else f"http://127.0.0.1:{free_port()}/hooks"
        register(client, tenant, url, ["certificate.created"])
        certify(client, tenant, b"faulty")
        # The frozen clock starts once the event exists, so a slow machine cannot leave
        # the first attempt not yet due.
        clock = FrozenClock(datetime.now(UTC) + timedelta(seconds=1))
        service = _service(runtime, clock)
        assert service.deliver_due() == 1
        (delivery,) = _deliveries(runtime)
        assert delivery.state == "pending" and delivery.attempts == 1
        assert (delivery.last_status, delivery.last_error is None) != (200, True)
        wait = delivery.next_attempt_at.replace(tzinfo=UTC) - clock.now()
        assert timedelta(seconds=4) <= wait <= timedelta(seconds=6)  # 5 s ± 10 %
        assert service.deliver_due() == 0  # not due yet
        if fault != "down":
            receiver.respond = lambda: (200, {})
            receiver.delay = 0.0
            clock.advance(timedelta(seconds=6))
            assert service.deliver_due() == 1
            (delivery,) = _deliveries(runtime)
            assert delivery.state == "delivered" and delivery.attempts == 2
    service.close()


def test_gone_disables_and_retry_after_is_honoured(
    local: tuple[Runtime, TestClient, Tenant],
) -> None:
    runtime, client, tenant = local
    # Ahead of the wall clock by more than a loaded machine takes to create the event.
    clock = FrozenClock(datetime.now(UTC) + timedelta(seconds=30))
    service = _service(runtime, clock)
    with Receiver(respond=lambda: (429, {"Retry-After": "120"})) as receiver:
        hook = register(client, tenant, receiver.url, ["certificate.created"])
        certify(client, tenant, b"busy")
        service.deliver_due()
        (delivery,) = _deliveries(runtime)
        wait = delivery.next_attempt_at.replace(tzinfo=UTC) - clock.now()
        assert wait >= timedelta(seconds=120)
        receiver.respond = lambda: (410, {})
        clock.advance(timedelta(seconds=121))
        service.deliver_due()
        endpoint = client.get(f"/v1/webhooks/{hook['id']}", headers=tenant.auth).json()
        assert endpoint["active"] is False and "410" in endpoint["disabledReason"]
        # A switched-off endpoint receives no new events.
        certify(client, tenant, b"after gone")
        assert len(_deliveries(runtime)) == 1
    service.close()


def test_private_addresses_are_refused(local: tuple[Runtime, TestClient, Tenant]) -> None:
    runtime, client, tenant = local
    with Receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        register(client, tenant, f"http://127.0.0.2:{port}/hooks", ["certificate.created"])
        certify(client, tenant, b"ssrf")
        runtime.webhooks.deliver_due()
        assert receiver.received == []
        (delivery,) = _deliveries(runtime)
        assert delivery.last_error is not None and delivery.last_error.startswith("refused")


def test_a_dead_workers_claim_lapses(local: tuple[Runtime, TestClient, Tenant]) -> None:
    runtime, client, tenant = local
    # Ahead of the wall clock by more than a loaded machine takes to create the event.
    clock = FrozenClock(datetime.now(UTC) + timedelta(seconds=30))
    service = _service(runtime, clock)
    with Receiver() as receiver:
        register(client, tenant, receiver.url, ["certificate.created"])
        certify(client, tenant, b"killed mid-delivery")
        assert len(service._claim(10)) == 1  # claimed, then the worker dies
        assert service.deliver_due() == 0
        clock.advance(timedelta(seconds=8))
        assert service.deliver_due() == 1
        assert len(receiver.received) == 1 and _deliveries(runtime)[0].state == "delivered"
    service.close()


def test_rotation_signs_with_both_secrets(local: tuple[Runtime, TestClient, Tenant]) -> None:
    runtime, client, tenant = local
    with Receiver() as receiver:
        hook = register(client, tenant, receiver.url, ["certificate.created"])
        rotated = client.post(
            f"/v1/webhooks/{hook['id']}/rotate-secret", headers=tenant.auth
        ).json()
        assert rotated["secret"] != hook["secret"]
        certify(client, tenant, b"rotated")
        runtime.webhooks.deliver_due()
        (received,) = receiver.received
        versions = [e.split(",")[0] for e in received.headers["webhook-signature"].split(" ")]
        assert versions == ["v1", "v1", "v1a"]
        for secret in (hook["secret"], rotated["secret"]):
            verify(secret=secret, headers=received.headers, body=received.body)


def test_auto_disable_mails_the_owner(local: tuple[Runtime, TestClient, Tenant]) -> None:
    from fakes.smtp import smtp_server
    from notarium.notify.mail.smtp import SmtpMailer

    runtime, client, _ = local
    account, issued = runtime.accounts.create_account("mailed", "pro", email="owner@example.test")
    tenant = Tenant(account.id, issued.secret)
    # Ahead of the wall clock by more than a loaded machine takes to create the event.
    clock = FrozenClock(datetime.now(UTC) + timedelta(seconds=30))
    with smtp_server() as (collector, port), Receiver(respond=lambda: (503, {})) as receiver:
        service = WebhookService(
            runtime.sessions,
            clock,
            SecretBox(runtime.settings.keys_dir),
            HttpxWebhookSender(EgressPolicy(["127.0.0.1"]), timeout=1.0),
            WebhookPolicy(timeout=1.0, disable_after=2, https_only_live=False),
            notify=SmtpMailer(f"smtp://127.0.0.1:{port}?from=notary@example.test").send,
        )
        hook = register(client, tenant, receiver.url, ["certificate.created"])
        certify(client, tenant, b"one")
        certify(client, tenant, b"two")
        assert service.deliver_due() == 2
        endpoint = client.get(f"/v1/webhooks/{hook['id']}", headers=tenant.auth).json()
        assert endpoint["active"] is False
        assert "2 consecutive failed attempts" in endpoint["disabledReason"]
        (mail,) = collector.received
        assert mail.rcpt_tos == ["owner@example.test"]
        assert hook["id"] in mail.message.get_content()
        # Switching it back on resumes the undelivered events.
        receiver.respond = lambda: (200, {})
        client.patch(f"/v1/webhooks/{hook['id']}", headers=tenant.auth, json={"active": True})
        clock.advance(timedelta(seconds=6))
        assert service.deliver_due() == 2
        assert {d.state for d in _deliveries(runtime)} == {"delivered"}
        service.close()
