"""The L402 endpoint (``POST /api/l402``) against its document, on each backend: every
action and error code, the L402 challenge and credential (paid with the built-in
development node), tampered and replayed tokens, file uploads and malware, webhooks and
e-mails, and the document's whole curl flow against a real server."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bolt11
import httpx
import pytest
from fastapi.testclient import TestClient
from receivers import Receiver
from server import Server, server_env
from sqlalchemy import func, select

from fakes.bitcoind import FakeBitcoind
from fakes.calendar import FakeCalendar
from fakes.chain import FakeChain
from notarium.adapters.lightning.dev import DevLightningNode
from notarium.adapters.scanning.disabled import NoScanner
from notarium.adapters.scanning.fakes import EICAR, FakeScanner
from notarium.adapters.store import migrate
from notarium.adapters.store.db import make_engine
from notarium.adapters.store.models import Batch, L402Mail, L402Token, Record
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.app.wiring.l402 import build_l402
from notarium.core.clock import FrozenClock
from notarium.http.app import create_app
from notarium.ledger.anchoring.policy import AnchorPolicy
from notarium.ledger.anchoring.service import AnchoringService
from notarium.ledger.anchoring.simulated import FakeAnchor
from notarium.notify.mail.memory import MemoryMailer
from notarium.notify.webhooks import verify
from notarium.products.l402 import macaroons
from notarium.products.l402.headers import parse_challenge
from notarium.products.l402.service import L402Service
from readiness import DEADLINE, wait_for
from unit.l402.fakes import FakeLightning

HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
OTHER = hashlib.sha256(b"another document").hexdigest()
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TIP = 939_159
BLOCK = 939_157


@dataclass(frozen=True)
class FixedTip:
    tip: int | None = TIP

    def height(self) -> int | None:
        return self.tip


@dataclass
class Env:
    runtime: Runtime
    client: TestClient
    service: L402Service
    mailer: MemoryMailer
    scanner: FakeScanner

    def post(self, body: dict[str, Any], auth: str | None = None) -> httpx.Response:
        headers = {"Authorization": auth} if auth else {}
        return self.client.post("/api/l402", json=body, headers=headers)

    def pay(self, invoice: str) -> str:
        lightning = self.service.lightning
        assert isinstance(lightning, DevLightningNode | FakeLightning)
        return lightning.pay(invoice).hex()

    def buy(self, body: dict[str, Any]) -> tuple[httpx.Response, str]:
        """The 402, paid; the answer to the paid retry and its Authorization header."""
        challenge = self.post(body)
        assert challenge.status_code == 402, challenge.text
        auth = f"L402 {challenge.json()['macaroon']}:{self.pay(challenge.json()['invoice'])}"
        return self.post(body, auth), auth


def _settings(settings: Settings, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "egress_allowlist": ["127.0.0.1"],
            "webhook_https_only": False,
            "webhook_timeout": 2.0,
            "rate_limits_enabled": False,
            "l402_store_files": True,
            **extra,
        }
    )


@pytest.fixture
def l402_settings(settings: Settings) -> Settings:
    return _settings(settings)


@pytest.fixture
def l402_runtime(l402_settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(l402_settings)
    migrate.upgrade(runtime.engine)
    yield runtime
    runtime.close()


def make_env(runtime: Runtime, **overrides: Any) -> Iterator[Env]:
    mailer = overrides.pop("mailer", MemoryMailer())
    scanner = overrides.pop("scanner", FakeScanner())
    tip = overrides.pop("tip", FixedTip())
    service = build_l402(
        runtime.settings,
        sessions=runtime.sessions,
        clock=overrides.pop("clock", runtime.clock),
        records=runtime.records,
        accounts=runtime.accounts,
        lightning=overrides.pop("lightning", runtime.lightning),
        box=runtime.box,
        mailer=mailer,
        scanner=scanner,
        tip=tip,
        **overrides,
    )
    runtime = replace(runtime, l402=service)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield Env(runtime, client, service, mailer, scanner)


@pytest.fixture
def env(l402_runtime: Runtime) -> Iterator[Env]:
    yield from make_env(l402_runtime)


def anchor(runtime: Runtime, anchor: FakeAnchor) -> tuple[AnchoringService, FrozenClock]:
    clock = FrozenClock(datetime.now(UTC))
    return (
        AnchoringService(
            runtime.sessions, clock, [anchor], AnchorPolicy(), events=runtime.records.events
        ),
        clock,
    )


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["http_code"] == status and body["message"]
    return str(body["error"])


# -- the document's flow ------------------------------------------------------------


def test_the_documents_flow_end_to_end(env: Env) -> None:
    with Receiver() as receiver:
        body = {"action": "l402_timestamp", "hash": HASH, "webhook_url": receiver.url}
        challenge = env.post(body)
        assert challenge.status_code == 402
        payment = challenge.json()
        assert payment["success"] is False and payment["http_code"] == 402
        assert payment["error"] == "payment_required" and payment["message"] == "Payment required"
        assert payment["amount_sats"] == 25_000
        assert payment["description"] == (
            "notarium timestamp (20000 sats service + 5000 sats network fee @ 15 sat/vB)"
        )
        header = parse_challenge(challenge.headers["WWW-Authenticate"])
        assert challenge.headers["WWW-Authenticate"].startswith('L402 version="0", token="')
        assert (header.token, header.invoice) == (payment["macaroon"], payment["invoice"])
        # The invoice is real BOLT11 for the price, and the macaroon commits to its hash.
        invoice = bolt11.decode(payment["invoice"])
        assert invoice.amount_msat == 25_000_000
        assert invoice.description == payment["description"]
        parsed = macaroons.parse(base64.b64decode(payment["macaroon"], validate=True))
        assert parsed.identifier.payment_hash.hex() == invoice.payment_hash

        preimage = env.pay(payment["invoice"])
        assert hashlib.sha256(bytes.fromhex(preimage)).hexdigest() == invoice.payment_hash
        auth = f"L402 {payment['macaroon']}:{preimage}"
        paid = env.post(body, auth)
        assert paid.status_code == 200, paid.text
        created = paid.json()
        assert created["success"] is True and created["hash"] == HASH
        assert created["status"] == "queued"
        assert created["message"] == "Hash queued for Bitcoin blockchain anchoring."
        assert created["timestamp_id"].startswith("LN-")
        secret = created["webhook_secret"]
        assert secret.startswith("whsec_")
        # The same paid request again: the same answer, and still one record.
        assert env.post(body, auth).json() == created
        with env.runtime.sessions() as session:
            assert session.scalar(select(func.count()).where(Record.sha256 == HASH)) == 1

        status = {"action": "l402_timestamp_status", "hash": HASH}
        assert env.post(status).json() == {
            "success": True,
            "status": "queued",
            "timestamp_id": created["timestamp_id"],
            "hash": HASH,
            "txid": None,
            "confirmations": 0,
            "block_height": None,
        }
        anchoring, clock = anchor(
            env.runtime, FakeAnchor("fake:btc", anchor_kind="bitcoin", height=BLOCK)
        )
        anchoring.run_batcher()
        by_id = {"action": "l402_timestamp_status", "timestamp_id": created["timestamp_id"]}
        assert env.post(by_id).json()["status"] == "broadcasted"
        anchoring.progress_anchors()
        clock.advance(timedelta(hours=1))
        anchoring.progress_anchors()
        confirmed = env.post(status).json()
        assert confirmed == {
            "success": True,
            "status": "confirmed",
            "timestamp_id": created["timestamp_id"],
            "hash": HASH,
            "txid": "ab" * 32,
            "confirmations": 3,
            "block_height": BLOCK,
        }
        verified = env.post({"action": "l402_timestamp_verify", "hash": HASH}).json()
        with env.runtime.sessions() as session:
            root = session.scalars(select(Batch.root)).one()
        assert verified == {
            "success": True,
            "verified": True,
            "found": True,
            "hash": HASH,
            "txid": "ab" * 32,
            "block_height": BLOCK,
            "op_return": f"NTRM|{root.hex()}",
            "explorer_url": f"https://mempool.space/tx/{'ab' * 32}",
        }

        assert env.runtime.webhooks.deliver_due() == 2
        events = [json.loads(r.body) for r in receiver.received]
        for received in receiver.received:
            verify(secret=secret, headers=received.headers, body=received.body)
        assert events == [
            {
                "event": "status_change",
                "timestamp_id": created["timestamp_id"],
                "hash": HASH,
                "status": "broadcasted",
                "txid": None,
                "block_height": None,
            },
            {
                "event": "status_change",
                "timestamp_id": created["timestamp_id"],
                "hash": HASH,
                "status": "confirmed",
                "txid": "ab" * 32,
                "block_height": BLOCK,
            },
        ]


def test_confirmation_email(env: Env) -> None:
    created, _ = env.buy(
        {"action": "l402_timestamp", "hash": HASH, "notification_email": "alerts@example.com"}
    )
    assert created.status_code == 200
    anchoring, _ = anchor(env.runtime, FakeAnchor("fake:ots", upgrades_needed=0, height=BLOCK))
    anchoring.run_batcher()
    assert env.service.deliver_mail() == 0  # nothing before the confirmation
    env.mailer.failures = 1
    anchoring.progress_anchors()
    assert env.service.deliver_mail() == 1 and env.mailer.sent == []
    with env.runtime.sessions.begin() as session:
        pending = session.scalars(select(L402Mail)).one()
        assert pending.state == "pending" and pending.attempts == 1 and pending.last_error
        pending.next_attempt_at = datetime.now(UTC)
    assert env.service.deliver_mail() == 1
    (mail,) = env.mailer.sent
    assert mail.to == "alerts@example.com"
    assert created.json()["timestamp_id"] in mail.subject
    assert HASH in mail.body and f"https://mempool.space/tx/{'ab' * 32}" in mail.body
    assert env.service.deliver_mail() == 0


def test_lsat_scheme_and_parameter_forms_are_accepted(env: Env) -> None:
    for n, form in enumerate(
        ("LSAT {m}:{p}", 'L402 macaroon="{m}", preimage="{p}"', "l402 {m}:{p}")
    ):
        body = {"action": "l402_timestamp", "hash": f"{n:064x}"}
        challenge = env.post(body).json()
        # The challenge header read the way older clients read it.
        token = challenge["macaroon"]
        preimage = env.pay(challenge["invoice"])
        answer = env.post(body, form.format(m=token, p=preimage))
        assert answer.status_code == 200 and answer.json()["hash"] == f"{n:064x}", answer.text


def test_a_hash_already_timestamped_is_not_charged_again(env: Env) -> None:
    created, _ = env.buy({"action": "l402_timestamp", "hash": HASH})
    again = env.post({"action": "l402_timestamp", "hash": HASH})
    assert again.status_code == 200
    assert again.json()["already_timestamped"] is True
    assert again.json()["timestamp_id"] == created.json()["timestamp_id"]


def test_a_timestamped_hash_with_new_notifications_is_challenged_then_gets_them(
    env: Env,
) -> None:
    created = env.buy({"action": "l402_timestamp", "hash": HASH})[0].json()
    with Receiver() as first, Receiver() as second:
        hooked = {"action": "l402_timestamp", "hash": HASH, "webhook_url": first.url}
        # Step 1 of the document: a request that would change something is a 402, with
        # the invoice and macaroon of any timestamp, never a free answer that drops it.
        challenge = env.post(hooked)
        assert challenge.status_code == 402, challenge.text
        assert challenge.json()["invoice"] and challenge.json()["macaroon"]
        paid, _ = env.buy(hooked)
        assert paid.status_code == 200, paid.text
        body = paid.json()
        assert body["success"] is True and body["timestamp_id"] == created["timestamp_id"]
        first_secret = body["webhook_secret"]
        # The same webhook again changes nothing: free, and says so.
        again = env.post(hooked)
        assert again.status_code == 200 and again.json()["already_timestamped"] is True
        assert "webhook_secret" not in again.json()
        # Another webhook or an e-mail address is a change again; paid, it replaces.
        mail = {
            "action": "l402_timestamp",
            "hash": HASH,
            "webhook_url": second.url,
            "notification_email": "later@example.com",
        }
        assert env.post(mail).status_code == 402
        replaced, _ = env.buy(mail)
        assert replaced.json()["timestamp_id"] == created["timestamp_id"]
        second_secret = replaced.json()["webhook_secret"]
        assert second_secret != first_secret
        anchoring, _ = anchor(env.runtime, FakeAnchor("fake:ots", upgrades_needed=0))
        anchoring.run_batcher()
        anchoring.progress_anchors()
        assert env.runtime.webhooks.deliver_due() == 2
        assert first.received == []
        for received in second.received:
            verify(secret=second_secret, headers=received.headers, body=received.body)
        assert [json.loads(r.body)["status"] for r in second.received] == [
            "broadcasted",
            "confirmed",
        ]
    assert env.service.deliver_mail() == 1
    assert [m.to for m in env.mailer.sent] == ["later@example.com"]
    with env.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 1


def test_two_payers_of_one_hash_get_the_same_timestamp(env: Env) -> None:
    plain = {"action": "l402_timestamp", "hash": HASH}
    with_mail = {**plain, "notification_email": "second@example.com"}
    # Both challenged before either paid: the second payment meets a timestamp that exists.
    first, second = env.post(plain).json(), env.post(with_mail).json()
    first_auth = f"L402 {first['macaroon']}:{env.pay(first['invoice'])}"
    second_auth = f"L402 {second['macaroon']}:{env.pay(second['invoice'])}"
    created = env.post(plain, first_auth).json()
    joined = env.post(with_mail, second_auth).json()
    assert joined["timestamp_id"] == created["timestamp_id"] and joined["status"] == "queued"
    assert env.post(with_mail, second_auth).json() == joined
    with env.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 1
    anchoring, _ = anchor(env.runtime, FakeAnchor("fake:ots", upgrades_needed=0))
    anchoring.run_batcher()
    anchoring.progress_anchors()
    env.service.deliver_mail()
    assert [m.to for m in env.mailer.sent] == ["second@example.com"]


def test_opentimestamps_only_verify_names_what_anchors_the_hash(env: Env) -> None:
    env.buy({"action": "l402_timestamp", "hash": HASH})
    anchoring, _ = anchor(env.runtime, FakeAnchor("fake:ots", upgrades_needed=0, height=BLOCK))
    anchoring.run_batcher()
    anchoring.progress_anchors()
    verified = env.post({"action": "l402_timestamp_verify", "hash": HASH}).json()
    with env.runtime.sessions() as session:
        root = session.scalars(select(Batch.root)).one()
    assert verified["verified"] is True and verified["block_height"] == BLOCK
    assert verified["op_return"] == f"opentimestamps|{root.hex()}"


def test_confirmations_without_a_node_count_from_the_best_attested_block(
    l402_runtime: Runtime,
) -> None:
    for env in make_env(l402_runtime, tip=FixedTip(None)):
        calendar = FakeAnchor("fake:ots", upgrades_needed=0)
        anchoring, _ = anchor(env.runtime, calendar)
        ids = []
        for n, height in enumerate((BLOCK, BLOCK + 5)):
            ids.append(env.buy({"action": "l402_timestamp", "hash": f"{n + 1:064x}"})[0].json())
            calendar.height = height
            anchoring.run_batcher(force=True)
            anchoring.progress_anchors()
        statuses = [
            env.post({"action": "l402_timestamp_status", "timestamp_id": c["timestamp_id"]}).json()
            for c in ids
        ]
        assert [s["status"] for s in statuses] == ["confirmed", "confirmed"]
        assert [s["block_height"] for s in statuses] == [BLOCK, BLOCK + 5]
        # No node: the highest block any attestation names is the best height known.
        assert [s["confirmations"] for s in statuses] == [6, 1]


# -- refused credentials ------------------------------------------------------------


def test_forged_tampered_replayed_and_revoked_tokens_are_refused(env: Env) -> None:
    body = {"action": "l402_timestamp", "hash": HASH}
    payment = env.post(body).json()
    token = payment["macaroon"]
    preimage = env.pay(payment["invoice"])
    raw = base64.b64decode(token)

    def with_token(raw_token: bytes, pre: str = preimage, req: dict[str, Any] = body) -> str:
        return error_of(env.post(req, f"L402 {base64.b64encode(raw_token).decode()}:{pre}"), 401)

    assert with_token(raw, "00" * 32) == "invalid_preimage"
    digest = next(c.value for c in macaroons.parse(raw).caveats if c.condition.endswith("digest"))
    assert with_token(raw.replace(digest.encode(), b"0" * 64)) == "invalid_token"
    assert with_token(raw[:-1] + bytes([raw[-1] ^ 1])) == "invalid_token"
    assert with_token(raw.replace(b"notarium:0", b"notarium:1")) == "invalid_token"
    assert with_token(b"\x02garbage") == "invalid_token"
    replay = {"action": "l402_timestamp", "hash": OTHER}
    assert with_token(raw, req=replay) == "token_request_mismatch"
    with_hook = {**body, "webhook_url": "http://127.0.0.1:9/hook"}
    assert with_token(raw, req=with_hook) == "token_request_mismatch"
    response = env.post(body, f"L402 {token}")
    assert error_of(response, 401) == "invalid_authorization"
    assert response.headers["WWW-Authenticate"] == 'L402 error="invalid_authorization"'
    # Nothing above spent the token: it still buys the request it was minted for.
    assert env.post(body, f"L402 {token}:{preimage}").status_code == 200

    second = env.post({"action": "l402_timestamp", "hash": OTHER}).json()
    second_preimage = env.pay(second["invoice"])
    token_id = macaroons.parse(base64.b64decode(second["macaroon"])).identifier.token_hex
    assert env.service.revoke(token_id)
    assert error_of(env.post(replay, f"L402 {second['macaroon']}:{second_preimage}"), 401) == (
        "invalid_token"
    )


def test_an_expired_token_is_refused(l402_runtime: Runtime) -> None:
    clock = FrozenClock(datetime.now(UTC))
    for env in make_env(l402_runtime, clock=clock):
        body = {"action": "l402_timestamp", "hash": HASH}
        payment = env.post(body).json()
        auth = f"L402 {payment['macaroon']}:{env.pay(payment['invoice'])}"
        clock.advance(timedelta(days=1))
        assert error_of(env.post(body, auth), 401) == "token_expired"
        clock.advance(timedelta(seconds=-1))
        assert env.post(body, auth).status_code == 200
        # A day after expiry the token is forgotten, unpaid challenges with it.
        unpaid = env.post({"action": "l402_timestamp", "hash": OTHER}).json()
        assert env.service.background_step() == 0
        clock.advance(timedelta(days=2, seconds=1))
        assert env.service.background_step() == 2
        assert error_of(env.post(body, auth), 401) == "invalid_token"
        stale = f"L402 {unpaid['macaroon']}:{env.pay(unpaid['invoice'])}"
        assert error_of(env.post({"action": "l402_timestamp", "hash": OTHER}, stale), 401) == (
            "invalid_token"
        )


def test_an_unpaid_invoice_is_refused_unless_settlement_checks_are_off(
    l402_runtime: Runtime,
) -> None:
    lightning = FakeLightning()
    for env in make_env(l402_runtime, lightning=lightning):
        body = {"action": "l402_timestamp", "hash": HASH}
        payment = env.post(body).json()
        payment_hash = bolt11_hash(payment["invoice"])
        auth = f"L402 {payment['macaroon']}:{lightning.preimages[payment_hash].hex()}"
        assert error_of(env.post(body, auth), 401) == "payment_not_settled"
        lightning.unavailable = "connection refused"
        response = env.post(body, auth)
        assert error_of(response, 502) == "backend_unavailable"
        assert response.headers["Retry-After"]
        lightning.unavailable = None
        lightning.settled.add(payment_hash)
        assert env.post(body, auth).status_code == 200
    unchecked = replace(
        l402_runtime,
        settings=l402_runtime.settings.model_copy(update={"l402_check_settlement": False}),
    )
    for env in make_env(unchecked, lightning=lightning):
        body = {"action": "l402_timestamp", "hash": OTHER}
        payment = env.post(body).json()
        preimage = lightning.preimages[bolt11_hash(payment["invoice"])]
        auth = f"L402 {payment['macaroon']}:{preimage.hex()}"
        assert env.post(body, auth).status_code == 200


def bolt11_hash(invoice: str) -> str:
    return invoice.rsplit("n1", 1)[1]


def test_a_request_being_carried_out_is_not_carried_out_twice(env: Env) -> None:
    body = {"action": "l402_timestamp", "hash": HASH}
    payment = env.post(body).json()
    auth = f"L402 {payment['macaroon']}:{env.pay(payment['invoice'])}"
    token_id = macaroons.parse(base64.b64decode(payment["macaroon"])).identifier.token_hex
    assert env.service.tokens.claim(token_id, timedelta(minutes=1)) is None
    assert error_of(env.post(body, auth), 409) == "request_in_progress"
    env.service.tokens.release(token_id)
    assert env.post(body, auth).status_code == 200


def test_the_lightning_node_down_is_a_retryable_502(l402_runtime: Runtime) -> None:
    for env in make_env(l402_runtime, lightning=FakeLightning(unavailable="node offline")):
        response = env.post({"action": "l402_timestamp", "hash": HASH})
        assert error_of(response, 502) == "backend_unavailable"
        assert response.headers["Retry-After"] == "5"


# -- files ----------------------------------------------------------------------------


def file_body(data: bytes, filename: str) -> dict[str, Any]:
    return {
        "action": "l402_timestamp",
        "file_data": base64.b64encode(data).decode(),
        "filename": filename,
    }


def test_file_mode_hashes_scans_stores_and_costs_more(env: Env) -> None:
    challenge = env.post(file_body(PDF, "document.pdf"))
    assert challenge.status_code == 402
    assert challenge.json()["amount_sats"] == 30_000
    assert "5000 sats file handling" in challenge.json()["description"]
    answer, _ = env.buy(file_body(PDF, "document.pdf"))
    created = answer.json()
    digest = hashlib.sha256(PDF).hexdigest()
    assert created["hash"] == digest and created["status"] == "queued"
    assert created["file"] == {
        "filename": "document.pdf",
        "size": len(PDF),
        "mime": "application/pdf",
        "stored": True,
    }
    assert created["message"] == "File hashed and queued for Bitcoin blockchain anchoring."
    kept = env.runtime.settings.data_dir / "l402-files" / digest[:2] / digest
    assert kept.read_bytes() == PDF
    assert env.scanner.scans >= 2  # before the invoice, and again before it is kept
    with env.runtime.sessions() as session:
        record = session.scalars(select(Record).where(Record.sha256 == digest)).one()
        assert (record.filename, record.file_type, record.channel) == (
            "document.pdf",
            "application/pdf",
            "l402",
        )


@pytest.mark.parametrize(
    ("data", "filename", "status", "code"),
    [
        (b"harmless text " + EICAR, "eicar.txt", 400, "malware_detected"),
        (bytes(range(256)) * 4, "blob.bin", 400, "unsupported_file_type"),
        (PDF, "picture.png", 400, "file_type_mismatch"),
        (b"", "empty.txt", 400, "empty_file"),
        (b"a" * (10 * 1024 * 1024 + 1), "big.txt", 413, "file_too_large"),
    ],
)
def test_refused_files_are_neither_charged_nor_stored(
    env: Env, data: bytes, filename: str, status: int, code: str
) -> None:
    assert error_of(env.post(file_body(data, filename)), status) == code
    with env.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(L402Token)) == 0
        assert session.scalar(select(func.count()).select_from(Record)) == 0
    assert not (env.runtime.settings.data_dir / "l402-files").exists()


def test_a_body_beyond_the_upload_cap_is_refused_before_it_is_read(env: Env) -> None:
    response = env.client.post(
        "/api/l402",
        content=b"{" + b" " * (15 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response, 413) == "file_too_large"


def test_scanner_trouble_refuses_uploads(l402_runtime: Runtime) -> None:
    for env in make_env(l402_runtime, scanner=FakeScanner(unavailable="clamd is restarting")):
        assert error_of(env.post(file_body(PDF, "a.pdf")), 502) == "backend_unavailable"
    for env in make_env(l402_runtime, scanner=NoScanner()):
        response = env.post(file_body(PDF, "a.pdf"))
        assert error_of(response, 503) == "file_uploads_unavailable"
        # Hashes need no scanner.
        assert env.post({"action": "l402_timestamp", "hash": HASH}).status_code == 402


# -- updates --------------------------------------------------------------------------


def test_update_notifications(env: Env) -> None:
    created, _ = env.buy({"action": "l402_timestamp", "hash": HASH})
    timestamp_id = created.json()["timestamp_id"]
    update = {
        "action": "l402_timestamp_update",
        "timestamp_id": timestamp_id,
        "webhook_url": "http://127.0.0.1:9/hook",
        "notification_email": "alerts@example.com",
    }
    challenge = env.post(update)
    assert challenge.status_code == 402
    assert challenge.json()["amount_sats"] == 10
    assert challenge.json()["description"] == "notarium notification update (10 sats)"
    answer, auth = env.buy(update)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True and body["timestamp_id"] == timestamp_id
    assert body["updated"] == {
        "webhook_url": "http://127.0.0.1:9/hook",
        "notification_email": "alerts@example.com",
    }
    assert body["message"] == "Notification settings updated."
    assert body["webhook_secret"].startswith("whsec_")
    assert env.post(update, auth).json() == body
    # A 10-sat token buys this update only.
    removal = {"action": "l402_timestamp_update", "timestamp_id": timestamp_id, "webhook_url": None}
    assert error_of(env.post(removal, auth), 401) == "token_request_mismatch"
    removed, _ = env.buy(removal)
    assert removed.json()["updated"] == {"webhook_url": None}
    assert "webhook_secret" not in removed.json()


def test_a_replaced_webhook_gets_the_next_change_under_its_own_secret(env: Env) -> None:
    with Receiver() as first, Receiver() as second:
        created, _ = env.buy({"action": "l402_timestamp", "hash": HASH, "webhook_url": first.url})
        timestamp_id = created.json()["timestamp_id"]
        update = {
            "action": "l402_timestamp_update",
            "timestamp_id": timestamp_id,
            "webhook_url": second.url,
        }
        answer, _ = env.buy(update)
        secret = answer.json()["webhook_secret"]
        assert secret != created.json()["webhook_secret"]
        anchoring, _ = anchor(env.runtime, FakeAnchor("fake:ots"))
        anchoring.run_batcher()
        assert env.runtime.webhooks.deliver_due() == 1
        assert first.received == []
        (received,) = second.received
        verify(secret=secret, headers=received.headers, body=received.body)
        assert json.loads(received.body)["status"] == "broadcasted"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"action": "l402_timestamp_update", "timestamp_id": "LN-NOPE0000", "webhook_url": None},
            404,
            "timestamp_not_found",
        ),
        ({"action": "l402_timestamp_update", "webhook_url": None}, 400, "missing_timestamp_id"),
        ({"action": "l402_timestamp_update", "timestamp_id": "LN-1"}, 400, "nothing_to_update"),
        (
            {"action": "l402_timestamp_update", "timestamp_id": "LN-1", "notification_email": "x"},
            400,
            "invalid_notification_email",
        ),
        (
            {"action": "l402_timestamp_update", "timestamp_id": "LN-1", "webhook_url": "ftp://x"},
            400,
            "invalid_webhook_url",
        ),
    ],
)
def test_update_errors_cost_nothing(env: Env, body: dict[str, Any], status: int, code: str) -> None:
    assert error_of(env.post(body), status) == code
    with env.runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(L402Token)) == 0


def test_https_webhooks_and_e_mail_need_what_the_server_has(l402_runtime: Runtime) -> None:
    strict = replace(
        l402_runtime, settings=l402_runtime.settings.model_copy(update={"webhook_https_only": True})
    )
    for env in make_env(strict, mailer=None):
        plain = {"action": "l402_timestamp", "hash": HASH, "webhook_url": "http://hooks.example/x"}
        assert error_of(env.post(plain), 400) == "invalid_webhook_url"
        mail = {"action": "l402_timestamp", "hash": HASH, "notification_email": "a@example.com"}
        assert error_of(env.post(mail), 400) == "notification_email_unavailable"


# -- free actions and the envelope ----------------------------------------------------


def test_free_actions_and_request_errors(env: Env) -> None:
    assert env.post({"action": "l402_timestamp_verify", "hash": HASH}).json() == {
        "success": True,
        "verified": False,
        "found": False,
    }
    status = {"action": "l402_timestamp_status", "timestamp_id": "LN-NOPE0000"}
    assert error_of(env.post(status), 404) == "timestamp_not_found"
    created, _ = env.buy({"action": "l402_timestamp", "hash": HASH})
    found = env.post({"action": "l402_timestamp_verify", "hash": HASH.upper()}).json()
    assert found == {
        "success": True,
        "verified": False,
        "found": True,
        "hash": HASH,
        "status": "queued",
    }
    mismatch = {**status, "timestamp_id": created.json()["timestamp_id"], "hash": OTHER}
    assert error_of(env.post(mismatch), 404) == "timestamp_not_found"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"action": "l402_launch"}, "invalid_action"),
        ({"hash": HASH}, "invalid_action"),
        ({"action": "l402_timestamp"}, "missing_hash"),
        ({"action": "l402_timestamp", "hash": "e3b0"}, "invalid_hash"),
        ({"action": "l402_timestamp_verify", "hash": "z" * 64}, "invalid_hash"),
        ({"action": "l402_timestamp_status"}, "missing_hash"),
    ]
    for body, code in cases:
        assert error_of(env.post(body), 400) == code, body
    # Free actions read no credentials, malformed ones included.
    verify = {"action": "l402_timestamp_verify", "hash": HASH}
    assert env.post(verify, "L402 not-a-credential").status_code == 200
    for raw in (b"not json", b"[1, 2]", b"\xff"):
        response = env.client.post("/api/l402", content=raw)
        assert error_of(response, 400) == "invalid_request"
        assert response.json()["request_id"] == response.headers["X-Request-Id"]


def test_per_ip_rate_limits(l402_settings: Settings) -> None:
    runtime = build_runtime(l402_settings.model_copy(update={"rate_limits_enabled": True}))
    migrate.upgrade(runtime.engine)
    try:
        for env in make_env(runtime):
            for n in range(5):
                assert (
                    env.post({"action": "l402_timestamp", "hash": f"{n:064x}"}).status_code == 402
                )
            limited = env.post({"action": "l402_timestamp", "hash": HASH})
            assert error_of(limited, 429) == "rate_limited"
            assert int(limited.headers["Retry-After"]) >= 1
            # File challenges have a bucket of their own, as has every free action.
            assert env.post(file_body(PDF, "a.pdf")).status_code == 402
            for _ in range(10):
                ok = env.post({"action": "l402_timestamp_verify", "hash": HASH})
                assert ok.status_code == 200 and ok.headers["X-RateLimit-Limit"] == "10"
            verify_limited = env.post({"action": "l402_timestamp_verify", "hash": HASH})
            assert error_of(verify_limited, 429) == "rate_limited"
            status = env.post({"action": "l402_timestamp_status", "hash": HASH})
            assert error_of(status, 404) == "timestamp_not_found"
    finally:
        runtime.close()


# -- the document's curl flow against a real server ---------------------------------


REPO = Path(__file__).resolve().parents[2]


def readme_flow() -> str:
    """The README's L402 curl flow, verbatim."""
    section = (REPO / "README.md").read_text().split("### Pay per request over L402", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def json_documents(text: str) -> list[dict[str, Any]]:
    """The JSON objects curl printed one after another (curl adds no newline)."""
    decoder = json.JSONDecoder()
    documents, at = [], 0
    while (at := text.find("{", at)) != -1:
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


@pytest.mark.slow
def test_the_documents_curl_flow_against_a_real_server(
    tmp_path: Path, process_database_url: str | None
) -> None:
    chain = FakeChain()
    with FakeCalendar(chain) as calendar, FakeBitcoind(chain) as node:
        data = tmp_path / "data"
        database = {"NOTARIUM_DATABASE_URL": process_database_url} if process_database_url else {}
        env = server_env(
            data,
            **database,
            NOTARIUM_OTS_CALENDARS=calendar.url,
            NOTARIUM_OTS_MIN_CALENDARS="1",
            NOTARIUM_BITCOIN_RPC_URL=node.rpc_url,
            NOTARIUM_BATCH_INTERVAL="0.2",
            NOTARIUM_OTS_UPGRADE_INTERVAL="0.2",
            NOTARIUM_WORKER_POLL_INTERVAL="0.05",
        )
        server = Server(data, env)
        if process_database_url:
            server.cli("db", "upgrade")  # embedded SQLite migrates itself; a shared PG does not
        server.start()
        try:
            work = tmp_path / "work"
            work.mkdir()
            (work / "document.pdf").write_bytes(PDF)
            (work / ".venv").symlink_to(REPO / ".venv")
            flow = readme_flow()
            assert flow.count("BASE=http://127.0.0.1:8000\n") == 1
            flow = flow.replace("BASE=http://127.0.0.1:8000\n", f"BASE={server.url}\n")

            def run(script: str, **extra: str) -> str:
                done = subprocess.run(
                    ["bash", "-c", "set -euo pipefail\n" + script],
                    cwd=work,
                    env={**env, **extra},
                    capture_output=True,
                    text=True,
                    timeout=DEADLINE,
                    check=False,
                )
                assert done.returncode == 0, done.stderr
                return done.stdout

            challenge, paid, queued, unconfirmed = json_documents(run(flow))
            digest = hashlib.sha256(PDF).hexdigest()
            # The node's fee estimate (1 sat/vB on the fake node) prices the network part.
            assert challenge["amount_sats"] == 20_400
            assert "@ 1 sat/vB" in challenge["description"]
            assert paid["status"] == "queued" and paid["hash"] == digest, paid
            # The embedded worker may have batched it already; no block has been mined.
            assert queued["status"] in ("queued", "broadcasted")
            assert queued["timestamp_id"] == paid["timestamp_id"]
            assert unconfirmed["verified"] is False and unconfirmed["found"] is True
            later = "BASE=" + server.url + "\n" + flow[flow.index("# 4. ") :]
            # Status and verify allow 10 requests a minute per IP: wait for the block by
            # reading the server's database, then run the document's steps once.
            engine = make_engine(
                Settings(data_dir=data, database_url=process_database_url).database()
            )

            def confirmed() -> bool:
                calendar.stamp_pending()
                node.mine()
                with engine.connect() as connection:
                    state = connection.scalar(select(Record.status).where(Record.sha256 == digest))
                return state == "confirmed"

            try:
                wait_for(confirmed, "the L402 timestamp confirmed", interval=0.2)
            finally:
                engine.dispose()
            status, verified = json_documents(run(later, HASH=digest))
            assert status["status"] == "confirmed", status
            assert status["timestamp_id"] == paid["timestamp_id"] and status["txid"]
            assert isinstance(status["confirmations"], int) and status["confirmations"] >= 1
            assert status["block_height"] is not None
            assert verified["verified"] is True and verified["found"] is True
            # Whichever anchor's block came first, `op_return` says what anchors the hash.
            prefix, _, root = verified["op_return"].partition("|")
            assert prefix in ("NTRM", "opentimestamps") and len(bytes.fromhex(root)) == 32
            assert verified["txid"] == status["txid"]
            assert verified["block_height"] == status["block_height"]
            assert verified["explorer_url"] == f"https://mempool.space/tx/{status['txid']}"
        finally:
            server.stop()
