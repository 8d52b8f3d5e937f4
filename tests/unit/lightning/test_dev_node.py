"""The development node: real BOLT11 invoices signed by its own key, settled by ``pay``."""

from __future__ import annotations

import hashlib
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import bolt11
import pytest
from coincurve import PrivateKey

from notarium.adapters.lightning.dev import (
    NODE_KEY_FILE,
    DevLightningNode,
    ForeignInvoice,
    InvoiceAlreadyPaid,
    InvoiceExpired,
    PaymentRefused,
)
from notarium.adapters.lightning.dev_store import FILE_NAME
from notarium.adapters.lightning.invoices import InvalidInvoiceRequest, MalformedInvoice
from notarium.adapters.lightning.ports import InvoiceState, LightningBackend, UnknownInvoice
from notarium.core.clock import FrozenClock


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def make_node(
    data_dir: Path, clock: FrozenClock | None = None, **options: object
) -> DevLightningNode:
    return DevLightningNode(
        data_dir / "keys",
        data_dir / "lightning-dev",
        clock=clock,
        poll_interval=0.02,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def node(data_dir: Path, clock: FrozenClock) -> Iterator[DevLightningNode]:
    dev = make_node(data_dir, clock)
    yield dev
    dev.close()


def test_satisfies_the_protocol(node: DevLightningNode) -> None:
    assert isinstance(node, LightningBackend)
    assert node.name == "dev"


def test_invoice_is_a_real_bolt11_invoice_signed_by_the_node_key(
    node: DevLightningNode, data_dir: Path, clock: FrozenClock
) -> None:
    invoice = node.create_invoice(25_000, "notarium timestamp", 600)

    decoded = bolt11.decode(invoice.payment_request)
    assert invoice.payment_request.startswith("lnbcrt250u1")
    assert decoded.currency == "bcrt"
    assert decoded.amount_msat == 25_000_000
    assert decoded.payment_hash == invoice.payment_hash
    assert decoded.description == "notarium timestamp"
    assert decoded.expiry == 600
    assert decoded.date == int(clock.now().timestamp())
    assert decoded.payment_secret is not None and len(decoded.payment_secret) == 64
    assert invoice.created_at == clock.now()
    assert invoice.expires_at == clock.now() + timedelta(seconds=600)
    assert invoice.amount_sats == 25_000 and invoice.memo == "notarium timestamp"

    # The key file is the node's identity: the signature recovers its public key and
    # verifies under it.
    key_file = data_dir / "keys" / NODE_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    public = PrivateKey.from_pem(key_file.read_bytes()).public_key.format(compressed=True).hex()
    assert decoded.payee == public == node.node_id
    assert decoded.signature.verify(public) is True
    other = PrivateKey().public_key.format(compressed=True).hex()
    with pytest.raises(ValueError, match="Invalid signature"):
        decoded.signature.verify(other)


def test_unicode_and_empty_memos_round_trip(node: DevLightningNode) -> None:
    for memo in ("café ☕ timestamp", ""):
        invoice = node.create_invoice(1, memo, 60)
        assert bolt11.decode(invoice.payment_request).description == memo


def test_the_key_is_generated_once_and_reused(data_dir: Path) -> None:
    first = make_node(data_dir)
    second = make_node(data_dir)
    assert first.node_id == second.node_id
    key = (data_dir / "keys" / NODE_KEY_FILE).read_bytes()
    third = make_node(data_dir)
    assert third.node_id == first.node_id
    assert (data_dir / "keys" / NODE_KEY_FILE).read_bytes() == key


def test_invoice_state_file_is_private(node: DevLightningNode, data_dir: Path) -> None:
    node.create_invoice(10, "x", 60)
    state = data_dir / "lightning-dev"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / FILE_NAME).stat().st_mode) == 0o600


def test_pay_settles_and_returns_the_preimage(node: DevLightningNode, clock: FrozenClock) -> None:
    invoice = node.create_invoice(25_000, "memo", 600)
    assert node.lookup_invoice(invoice.payment_hash) == InvoiceState(
        payment_hash=invoice.payment_hash, settled=False
    )
    clock.advance(timedelta(seconds=30))

    preimage = node.pay(invoice.payment_request)

    assert len(preimage) == 32
    assert hashlib.sha256(preimage).hexdigest() == invoice.payment_hash
    assert node.lookup_invoice(invoice.payment_hash) == InvoiceState(
        payment_hash=invoice.payment_hash,
        settled=True,
        settled_at=clock.now(),
        amount_paid_sats=25_000,
    )
    # Upper-case payment requests (as QR codes carry them) are the same invoice.
    with pytest.raises(InvoiceAlreadyPaid):
        node.pay(invoice.payment_request.upper())


def test_paying_twice_is_refused(node: DevLightningNode) -> None:
    invoice = node.create_invoice(100, "once", 600)
    node.pay(invoice.payment_request)
    with pytest.raises(InvoiceAlreadyPaid, match="already paid") as refused:
        node.pay(invoice.payment_request)
    assert refused.value.code == "invoice_already_paid"
    assert isinstance(refused.value, PaymentRefused)


def test_paying_an_expired_invoice_is_refused(node: DevLightningNode, clock: FrozenClock) -> None:
    invoice = node.create_invoice(100, "late", 60)
    clock.advance(timedelta(seconds=60))
    with pytest.raises(InvoiceExpired, match="expired at") as refused:
        node.pay(invoice.payment_request)
    assert refused.value.code == "invoice_expired"
    state = node.lookup_invoice(invoice.payment_hash)
    assert state.settled is False and state.canceled is True


def test_paying_a_foreign_invoice_is_refused(
    node: DevLightningNode, tmp_path: Path, clock: FrozenClock
) -> None:
    stranger = make_node(tmp_path / "elsewhere", clock)
    foreign = stranger.create_invoice(100, "not ours", 600)
    with pytest.raises(ForeignInvoice, match="signed by node") as refused:
        node.pay(foreign.payment_request)
    assert refused.value.code == "foreign_invoice"
    assert stranger.lookup_invoice(foreign.payment_hash).settled is False


def test_paying_an_invoice_for_another_network_is_refused(
    node: DevLightningNode, data_dir: Path, tmp_path: Path
) -> None:
    # Same key, other network: the signature is ours but the invoice is not for us.
    testnet = DevLightningNode(data_dir / "keys", tmp_path / "testnet", currency="tb")
    invoice = testnet.create_invoice(100, "testnet", 600)
    assert invoice.payment_request.startswith("lntb1u1")
    with pytest.raises(ForeignInvoice, match="network"):
        node.pay(invoice.payment_request)


def test_garbage_and_tampered_invoices_are_refused(node: DevLightningNode) -> None:
    invoice = node.create_invoice(100, "memo", 600)
    tail = invoice.payment_request[-7]
    tampered = (
        invoice.payment_request[:-7] + ("q" if tail != "q" else "p") + invoice.payment_request[-6:]
    )
    for bad in ("", "not an invoice", tampered):
        with pytest.raises(MalformedInvoice) as refused:
            node.pay(bad)
        assert refused.value.code == "invalid_invoice"
    assert node.lookup_invoice(invoice.payment_hash).settled is False


def test_an_invoice_missing_from_the_store_is_unknown(
    node: DevLightningNode, data_dir: Path, tmp_path: Path
) -> None:
    # Signed by this key, issued by a node whose invoice file is elsewhere.
    twin = DevLightningNode(data_dir / "keys", tmp_path / "other-state")
    invoice = twin.create_invoice(100, "memo", 600)
    with pytest.raises(UnknownInvoice, match="no record"):
        node.pay(invoice.payment_request)


def test_lookup_of_unknown_or_malformed_hashes(node: DevLightningNode) -> None:
    with pytest.raises(UnknownInvoice, match="never issued") as unknown:
        node.lookup_invoice("ab" * 32)
    assert unknown.value.code == "unknown_invoice"
    with pytest.raises(UnknownInvoice, match="not a payment hash"):
        node.lookup_invoice("xyz")


@pytest.mark.parametrize(
    ("amount", "memo", "expiry", "message"),
    [
        (0, "m", 60, "amount"),
        (-5, "m", 60, "amount"),
        (True, "m", 60, "amount"),
        (10, "m", 0, "expiry"),
        (10, "m", 366 * 24 * 3600, "expiry"),
        (10, "é" * 320, 60, "memo"),
    ],
)
def test_impossible_invoice_requests_are_refused(
    node: DevLightningNode, amount: int, memo: str, expiry: int, message: str
) -> None:
    with pytest.raises(InvalidInvoiceRequest, match=message):
        node.create_invoice(amount, memo, expiry)


def test_a_memo_of_639_bytes_fits(node: DevLightningNode) -> None:
    invoice = node.create_invoice(10, "m" * 639, 60)
    assert bolt11.decode(invoice.payment_request).description == "m" * 639


def test_concurrent_payers_settle_exactly_once(
    data_dir: Path, node: DevLightningNode, clock: FrozenClock
) -> None:
    invoice = node.create_invoice(100, "race", 600)
    payers = [make_node(data_dir, clock) for _ in range(6)]
    barrier = threading.Barrier(len(payers))

    def pay(payer: DevLightningNode) -> bytes | str:
        barrier.wait()
        try:
            return payer.pay(invoice.payment_request)
        except InvoiceAlreadyPaid as error:
            return error.code

    with ThreadPoolExecutor(len(payers)) as pool:
        outcomes = list(pool.map(pay, payers))
    preimages = [o for o in outcomes if isinstance(o, bytes)]
    assert len(preimages) == 1
    assert outcomes.count("invoice_already_paid") == len(payers) - 1
    assert hashlib.sha256(preimages[0]).hexdigest() == invoice.payment_hash


def test_settlements_follow_payments_made_by_another_instance(
    node: DevLightningNode, data_dir: Path, clock: FrozenClock
) -> None:
    before = node.create_invoice(10, "settled before subscribing", 600)
    node.pay(before.payment_request)
    first = node.create_invoice(100, "first", 600)
    node.create_invoice(200, "never paid", 600)
    second = node.create_invoice(300, "second", 600)

    seen: list[InvoiceState] = []
    done = threading.Event()
    settlements = node.settlements()

    def follow() -> None:
        for state in settlements:
            seen.append(state)
            if len(seen) == 2:
                done.set()

    thread = threading.Thread(target=follow)
    thread.start()
    wallet = make_node(data_dir, clock)  # as `notarium dev pay` would, in its own process
    wallet.pay(first.payment_request)
    wallet.pay(second.payment_request)
    assert done.wait(5), seen
    node.close()
    thread.join(5)
    assert not thread.is_alive()
    assert [s.payment_hash for s in seen] == [first.payment_hash, second.payment_hash]
    assert [s.amount_paid_sats for s in seen] == [100, 300]
    assert all(s.settled and s.settled_at is not None for s in seen)


def test_close_ends_an_idle_subscription(node: DevLightningNode) -> None:
    result: list[list[InvoiceState]] = []
    thread = threading.Thread(target=lambda: result.append(list(node.settlements())))
    thread.start()
    threading.Event().wait(0.1)
    node.close()
    thread.join(2)
    assert not thread.is_alive()
    assert result == [[]]
