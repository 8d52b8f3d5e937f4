"""The ``LightningBackend`` contract, for the LND REST client (against the fake LND over
HTTPS on 127.0.0.1) and the built-in development node: an invoice is a BOLT11 request
for the amount asked, it reads back open until paid and settled after, a hash the node
never issued is unknown, and ``settlements`` yields each payment as it lands."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bolt11
import pytest

from fakes.lnd import FakeLnd
from notarium.adapters.lightning.dev import DevLightningNode
from notarium.adapters.lightning.lnd_rest import LndRestBackend
from notarium.adapters.lightning.ports import (
    InvoiceState,
    LightningBackend,
    UnknownInvoice,
)
from readiness import DEADLINE


@dataclass
class Subject:
    backend: LightningBackend
    pay: Callable[[str, str], None]
    """A wallet pays the invoice: its payment hash and BOLT11 request."""
    following: Callable[[], None]
    """Returns once a ``settlements`` iteration has started following the node."""


def _lnd(tmp_path: Path) -> Iterator[Subject]:
    with FakeLnd() as lnd:
        backend = LndRestBackend(lnd.url, macaroon=lnd.macaroon, tls_cert_pem=lnd.cert_pem)

        def pay(payment_hash: str, _: str) -> None:
            lnd.settle(payment_hash)

        def following() -> None:
            assert lnd.wait_for_subscribers(1), "the backend never subscribed"

        try:
            yield Subject(backend, pay, following)
        finally:
            backend.close()


def _dev(tmp_path: Path) -> Iterator[Subject]:
    node = DevLightningNode(tmp_path / "keys", tmp_path / "lightning-dev", poll_interval=0.05)

    def pay(_: str, request: str) -> None:
        node.pay(request)

    try:
        # Its settlements() takes the position to follow from when called.
        yield Subject(node, pay, lambda: None)
    finally:
        node.close()


@pytest.fixture(params=[_lnd, _dev], ids=["lnd", "dev"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    yield from request.param(tmp_path)


def test_it_satisfies_the_protocol(subject: Subject) -> None:
    assert isinstance(subject.backend, LightningBackend)
    assert subject.backend.name in {"lnd", "dev"}


def test_an_invoice_asks_for_the_amount_in_bolt11(subject: Subject) -> None:
    invoice = subject.backend.create_invoice(2_100, "one timestamp", 600)
    decoded = bolt11.decode(invoice.payment_request)
    assert decoded.amount_msat == 2_100_000 and invoice.amount_sats == 2_100
    assert decoded.payment_hash == invoice.payment_hash
    assert invoice.expires_at > invoice.created_at


def test_an_invoice_is_open_until_paid_then_settled(subject: Subject) -> None:
    invoice = subject.backend.create_invoice(1_000, "pay me", 600)
    before = subject.backend.lookup_invoice(invoice.payment_hash)
    assert not before.settled and not before.canceled and before.amount_paid_sats is None
    subject.pay(invoice.payment_hash, invoice.payment_request)
    after = subject.backend.lookup_invoice(invoice.payment_hash)
    assert after.settled and after.amount_paid_sats == 1_000
    assert after.settled_at is not None


def test_a_hash_the_node_never_issued_is_unknown(subject: Subject) -> None:
    with pytest.raises(UnknownInvoice):
        subject.backend.lookup_invoice(hashlib.sha256(os.urandom(32)).hexdigest())


def test_settlements_yield_each_payment_as_it_lands(subject: Subject) -> None:
    arrived: queue.Queue[InvoiceState | BaseException] = queue.Queue()

    stream = subject.backend.settlements()

    def follow() -> None:
        try:
            for state in stream:
                arrived.put(state)
        except BaseException as error:  # handed to the test, which fails on it
            arrived.put(error)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    try:
        invoice = subject.backend.create_invoice(500, "watched", 600)
        subject.following()
        subject.pay(invoice.payment_hash, invoice.payment_request)
        state = arrived.get(timeout=DEADLINE)
        assert isinstance(state, InvoiceState)
        assert state.payment_hash == invoice.payment_hash and state.settled
    finally:
        subject.backend.close()
        follower.join(timeout=DEADLINE)
    assert not follower.is_alive()
