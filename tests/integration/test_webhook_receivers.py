"""The certificates document's webhook receivers, copied verbatim (tests/webhook_receivers),
as the receiving end of real deliveries from the service: the Flask and Express signature
checks accept every genuine delivery and refuse every tampered one, and the fan-out
handler routes on `data.metadata` without crashing when a certificate has none. The
Ed25519 `v1a` signature checks out against the published key with `cryptography`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import os
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
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
from notarium.ledger.events import EVENT_TYPES
from notarium.notify.webhooks import new_secret
from notarium.notify.webhooks.delivery import DeliveryResult, HttpxWebhookSender
from notarium.notify.webhooks.keys import load_or_create
from notarium.notify.webhooks.service import WebhookPolicy, WebhookService

RECEIVERS = Path(__file__).resolve().parents[1] / "webhook_receivers"
EVENTS = ["certificate.created", "certificate.anchoring", "certificate.confirmed"]
METADATA = {"customerId": "cust_abc123", "orderId": "ord_xyz789"}
OPENSSL_VERIFY = ("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "key.pem", "-rawin")
# Generous: the receivers start on a machine that may be heavily loaded.
START_DEADLINE = 120.0

Tamper = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]


@pytest.fixture
def local(settings: Settings) -> Iterator[tuple[Runtime, TestClient, Tenant]]:
    """A runtime whose webhooks may reach 127.0.0.1 (and nothing else private)."""
    configured = settings.model_copy(
        update={"egress_allowlist": ["127.0.0.1"], "webhook_https_only": False}
    )
    runtime = build_runtime(configured)
    migrate.upgrade(runtime.engine)
    with TestClient(create_app(runtime)) as client:
        yield runtime, client, make_tenant(runtime)
    runtime.close()


class TamperingSender:
    """Sends what the service signed, after ``tamper`` changed it on the way."""

    def __init__(self, inner: HttpxWebhookSender, tamper: Tamper | None = None) -> None:
        self.inner = inner
        self.tamper = tamper

    def send(self, url: str, headers: Mapping[str, str], body: bytes) -> DeliveryResult:
        if self.tamper is not None:
            changed, body = self.tamper(dict(headers), body)
            headers = changed
        return self.inner.send(url, headers, body)

    def close(self) -> None:
        self.inner.close()


def _service(runtime: Runtime, sender: TamperingSender) -> WebhookService:
    # Ahead of the wall clock, so every delivery written before is due.
    clock = FrozenClock(datetime.now(UTC) + timedelta(seconds=30))
    return WebhookService(
        runtime.sessions,
        clock,
        SecretBox(runtime.settings.keys_dir),
        sender,
        WebhookPolicy(timeout=30.0, https_only_live=False),
        signing_key=load_or_create(runtime.settings.keys_dir),
    )


def _register(client: TestClient, tenant: Tenant, url: str) -> dict[str, Any]:
    # The document's request body, `mode` included.
    response = client.post(
        "/v1/webhooks", headers=tenant.auth, json={"url": url, "events": EVENTS, "mode": "live"}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _certify(
    client: TestClient, tenant: Tenant, content: bytes, metadata: dict[str, str] | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "sha256Hash": hashlib.sha256(content).hexdigest(),
        "fileName": "document.pdf",
        "fileSize": len(content),
    }
    if metadata is not None:
        payload["metadata"] = metadata
    response = client.post("/v1/certificates", headers=tenant.auth, json=payload)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _confirm_all(runtime: Runtime) -> None:
    anchoring = AnchoringService(
        runtime.sessions,
        FrozenClock(datetime.now(UTC)),
        [FakeAnchor("fake:a", upgrades_needed=0)],
        AnchorPolicy(),
        events=runtime.records.events,
    )
    anchoring.run_batcher()
    anchoring.progress_anchors()


def _statuses(runtime: Runtime) -> list[int | None]:
    with runtime.sessions() as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        return [row.last_status for row in rows]


def _pending(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        rows = session.scalars(select(WebhookDelivery).where(WebhookDelivery.attempts == 0))
        return len(list(rows))


def _hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _tampers(previous_signature: str) -> dict[str, Tamper]:
    def replace_header(value: str) -> Tamper:
        return lambda headers, body: ({**headers, "X-Provelio-Signature": value}, body)

    return {
        "body edited": lambda h, b: (h, b.replace(b'"testMode":false', b'"testMode":true')),
        "metadata rerouted": lambda h, b: (h, b.replace(b"cust_abc123", b"cust_evil66")),
        "event changed": lambda h, b: (h, b.replace(b"certificate.created", b"certificate.failed")),
        "other secret": lambda h, b: ({**h, "X-Provelio-Signature": _hex(new_secret(), b)}, b),
        "signature replayed": replace_header(previous_signature),
        "signature flipped": lambda h, b: (
            {**h, "X-Provelio-Signature": _flip(h["X-Provelio-Signature"])},
            b,
        ),
    }


def _flip(signature: str) -> str:
    return ("1" if signature[0] == "0" else "0") + signature[1:]


def _check_receiver(runtime: Runtime, client: TestClient, tenant: Tenant) -> None:
    """Genuine deliveries of every lifecycle event, then one tampered delivery per way of
    tampering; the receiver must answer 200, then 401 each time."""
    genuine = _service(runtime, TamperingSender(HttpxWebhookSender(EgressPolicy(["127.0.0.1"]))))
    _certify(client, tenant, b"genuine with metadata", METADATA)
    _certify(client, tenant, b"genuine without metadata", None)
    _confirm_all(runtime)
    assert genuine.deliver_due() == 6
    assert _statuses(runtime) == [200] * 6
    genuine.close()

    captured: list[str] = []

    def capture(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        captured.append(headers["X-Provelio-Signature"])
        return headers, body

    probe = _service(
        runtime, TamperingSender(HttpxWebhookSender(EgressPolicy(["127.0.0.1"])), capture)
    )
    _certify(client, tenant, b"one more genuine", METADATA)
    assert probe.deliver_due() == 1 and _statuses(runtime)[-1] == 200
    probe.close()

    for name, tamper in _tampers(captured[0]).items():
        sender = TamperingSender(HttpxWebhookSender(EgressPolicy(["127.0.0.1"])), tamper)
        service = _service(runtime, sender)
        _certify(client, tenant, f"tampered: {name}".encode(), METADATA)
        assert _pending(runtime) == 1
        assert service.deliver_due() == 1
        assert _statuses(runtime)[-1] == 401, name
        service.close()


def _load_flask_receiver() -> Any:
    spec = importlib.util.spec_from_file_location(
        "provelio_flask_receiver", RECEIVERS / "flask_signature.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_documents_flask_receiver_accepts_genuine_and_refuses_tampered(
    local: tuple[Runtime, TestClient, Tenant], monkeypatch: pytest.MonkeyPatch
) -> None:
    from werkzeug.serving import make_server

    runtime, client, tenant = local
    server = make_server("127.0.0.1", 0, _load_flask_receiver().app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hook = _register(client, tenant, f"http://127.0.0.1:{server.server_port}/webhooks/provelio")
        # The snippet reads the secret from the environment on each request.
        monkeypatch.setenv("PROVELIO_WEBHOOK_SECRET", hook["secret"])
        _check_receiver(runtime, client, tenant)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=60)


@contextmanager
def express(snippet: str, secret: str | None = None) -> Iterator[str]:
    """Runs ``snippet`` under Express (tests/webhook_receivers/serve.mjs); yields its base
    URL. Express must have been installed there by ``npm ci`` (scripts/system-deps.sh)."""
    assert (RECEIVERS / "node_modules" / "express").is_dir(), (
        "express is not installed: run `make system-deps` (npm ci in tests/webhook_receivers)"
    )
    env = {"PATH": os.environ.get("PATH", "")}
    if secret is not None:
        env["PROVELIO_WEBHOOK_SECRET"] = secret
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            ["node", str(RECEIVERS / "serve.mjs"), snippet],
            cwd=RECEIVERS,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            stdout = process.stdout
            assert stdout is not None
            port: list[str] = []
            reader = threading.Thread(target=lambda: port.append(stdout.readline()), daemon=True)
            reader.start()
            reader.join(timeout=START_DEADLINE)
            if not port or not port[0].strip().isdigit():
                process.kill()
                process.wait(timeout=60)
                errors.seek(0)
                pytest.fail(f"the Express receiver did not start: {errors.read().decode()}")
            yield f"http://127.0.0.1:{int(port[0])}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=60)
            if process.stdout is not None:
                process.stdout.close()


def test_the_documents_express_receiver_accepts_genuine_and_refuses_tampered(
    local: tuple[Runtime, TestClient, Tenant],
) -> None:
    runtime, client, tenant = local
    # Registered first, since the receiver needs the secret at start; pointed at the
    # receiver once it listens.
    hook = _register(client, tenant, "http://127.0.0.1:9/webhooks/provelio")
    with express("express_signature.mjs", hook["secret"]) as base:
        patched = client.patch(
            f"/v1/webhooks/{hook['id']}",
            headers=tenant.auth,
            json={"url": f"{base}/webhooks/provelio"},
        )
        assert patched.status_code == 200, patched.text
        _check_receiver(runtime, client, tenant)


def test_the_documents_fan_out_handler_routes_every_delivery(
    local: tuple[Runtime, TestClient, Tenant],
) -> None:
    runtime, client, tenant = local
    with express("express_fanout.mjs") as base:
        _register(client, tenant, f"{base}/webhooks/provelio")
        routed = _certify(client, tenant, b"routed", METADATA)
        bare = _certify(client, tenant, b"no metadata given", None)
        assert bare["metadata"] == {}
        _confirm_all(runtime)
        service = _service(
            runtime, TamperingSender(HttpxWebhookSender(EgressPolicy(["127.0.0.1"])))
        )
        assert service.deliver_due() == 6
        service.close()
        # A crash in the handler (destructuring a null `metadata`) would answer 500.
        assert _statuses(runtime) == [200] * 6
        with httpx.Client(trust_env=False, timeout=60) as http:
            notified = http.get(f"{base}/notified").json()
    assert sorted(notified, key=lambda n: "customerId" in n) == [
        {"publicId": bare["publicId"]},
        {"customerId": "cust_abc123", "orderId": "ord_xyz789", "publicId": routed["publicId"]},
    ]


def test_v1a_signature_verifies_with_the_published_key(
    local: tuple[Runtime, TestClient, Tenant], tmp_path: Path
) -> None:
    from receivers import Receiver

    runtime, client, tenant = local
    published = client.get("/v1/webhooks/signing-key")
    assert published.status_code == 200
    key_text = published.json()["publicKey"]
    assert published.json()["scheme"] == "v1a" and key_text.startswith("whpk_")
    public_key = ed25519.Ed25519PublicKey.from_public_bytes(
        base64.b64decode(key_text.removeprefix("whpk_"), validate=True)
    )
    with Receiver() as receiver:
        hook = _register(client, tenant, receiver.url)
        _certify(client, tenant, b"asymmetric", METADATA)
        runtime.webhooks.deliver_due()
        (received,) = receiver.received
    headers = {name.lower(): value for name, value in received.headers.items()}
    entries = dict(entry.split(",", 1) for entry in headers["webhook-signature"].split())
    assert set(entries) == {"v1", "v1a"}
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + received.body
    public_key.verify(base64.b64decode(entries["v1a"], validate=True), signed)
    with pytest.raises(InvalidSignature):
        public_key.verify(base64.b64decode(entries["v1a"]), signed.replace(b"cust_", b"cusT_"))
    # And with openssl, from nothing but the published key.
    (tmp_path / "key.pem").write_bytes(
        public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    (tmp_path / "sig").write_bytes(base64.b64decode(entries["v1a"]))
    for name, content in (("genuine", signed), ("tampered", signed.replace(b"cust_", b"cusT_"))):
        (tmp_path / name).write_bytes(content)
    outcomes = {
        name: subprocess.run(
            [*OPENSSL_VERIFY, "-in", name, "-sigfile", "sig"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        for name in ("genuine", "tampered")
    }
    assert outcomes["genuine"].returncode == 0, outcomes["genuine"].stdout
    assert "Signature Verified Successfully" in outcomes["genuine"].stdout
    assert outcomes["tampered"].returncode != 0
    # The document's header, beside the Standard Webhooks ones.
    assert headers["x-provelio-signature"] == _hex(hook["secret"], received.body)
    assert json.loads(received.body)["data"]["metadata"] == METADATA


def test_the_openapi_documents_describe_every_event_and_its_headers(
    local: tuple[Runtime, TestClient, Tenant],
) -> None:
    from jsonschema import Draft202012Validator
    from receivers import Receiver
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    runtime, client, tenant = local
    as_json = client.get("/openapi.json").json()
    as_yaml = yaml.safe_load(client.get("/v1/openapi.yaml").text)
    assert as_yaml["webhooks"] == as_json["webhooks"]
    assert as_json["openapi"].startswith("3.1")
    assert set(as_json["webhooks"]) == set(EVENT_TYPES)
    for event in EVENT_TYPES:
        operation = as_json["webhooks"][event]["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers >= {
            "X-Provelio-Signature",
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        }
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/CertificateEvent"}
        assert set(operation["responses"]) == {"200", "410"}

    registry = Registry().with_resource(
        "urn:notarium:openapi", Resource.from_contents(as_json, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": "urn:notarium:openapi#/components/schemas/CertificateEvent"}, registry=registry
    )
    with Receiver() as receiver:
        _register(client, tenant, receiver.url)
        _certify(client, tenant, b"described", METADATA)
        _certify(client, tenant, b"described, no metadata", None)
        _confirm_all(runtime)
        assert runtime.webhooks.deliver_due() == 6
        bodies = [json.loads(r.body) for r in receiver.received]
    for body in bodies:
        validator.validate(body)
    assert {b["event"] for b in bodies} == set(EVENTS)
    # The schema can fail: a null metadata, as delivered before, is refused.
    broken = {**bodies[0], "data": {**bodies[0]["data"], "metadata": None}}
    assert not validator.is_valid(broken)
