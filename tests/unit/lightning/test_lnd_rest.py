"""The LND REST client against a fake LND that speaks the same HTTPS and JSON."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import bolt11
import pytest

from fakes.lnd import FakeLnd, self_signed_certificate
from notarium.adapters.lightning.invoices import InvalidInvoiceRequest
from notarium.adapters.lightning.lnd_rest import LndConfigurationError, LndRestBackend
from notarium.adapters.lightning.ports import (
    InvoiceState,
    LightningBackend,
    LightningUnavailable,
    UnknownInvoice,
)
from notarium.app.settings import Settings
from notarium.app.wiring.lightning import build_lightning
from readiness import DEADLINE


@pytest.fixture
def lnd() -> Iterator[FakeLnd]:
    with FakeLnd() as server:
        yield server


def client_for(lnd: FakeLnd, **options: object) -> LndRestBackend:
    arguments: dict[str, object] = {"macaroon": lnd.macaroon, "tls_cert_pem": lnd.cert_pem}
    arguments.update(options)
    return LndRestBackend(lnd.url, **arguments)  # type: ignore[arg-type]


@pytest.fixture
def backend(lnd: FakeLnd) -> Iterator[LndRestBackend]:
    client = client_for(lnd)
    yield client
    client.close()


class Follower:
    """Consumes ``settlements()`` on a thread, handing each item (or the error that
    ended it) to the test through a queue."""

    def __init__(self, backend: LndRestBackend) -> None:
        self.items: queue.Queue[InvoiceState | BaseException | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(backend,), daemon=True)
        self.thread.start()

    def _run(self, backend: LndRestBackend) -> None:
        try:
            for state in backend.settlements():
                self.items.put(state)
        except BaseException as error:
            self.items.put(error)
            return
        self.items.put(None)

    def next(self, timeout: float = DEADLINE) -> InvoiceState | BaseException | None:
        return self.items.get(timeout=timeout)


def test_satisfies_the_protocol(backend: LndRestBackend) -> None:
    assert isinstance(backend, LightningBackend)
    assert backend.name == "lnd"


def test_create_invoice(backend: LndRestBackend, lnd: FakeLnd) -> None:
    invoice = backend.create_invoice(25_000, "notarium timestamp", 900)

    decoded = bolt11.decode(invoice.payment_request)
    assert decoded.payee == lnd.node_id
    assert decoded.payment_hash == invoice.payment_hash
    assert decoded.amount_msat == 25_000_000
    assert invoice.amount_sats == 25_000
    assert invoice.memo == "notarium timestamp"
    assert (invoice.expires_at - invoice.created_at).total_seconds() == 900
    (request,) = lnd.requests
    assert (request.method, request.path) == ("POST", "/v1/invoices")
    assert request.headers["grpc-metadata-macaroon"] == lnd.macaroon.hex()
    assert json.loads(request.body) == {
        "value": "25000",
        "memo": "notarium timestamp",
        "expiry": "900",
    }


def test_lookup_open_then_settled(backend: LndRestBackend, lnd: FakeLnd) -> None:
    invoice = backend.create_invoice(1_000, "memo", 600)
    assert backend.lookup_invoice(invoice.payment_hash) == InvoiceState(
        payment_hash=invoice.payment_hash, settled=False
    )

    preimage = lnd.settle(invoice.payment_hash)

    assert hashlib.sha256(preimage).hexdigest() == invoice.payment_hash
    state = backend.lookup_invoice(invoice.payment_hash.upper())
    assert state.settled is True and state.canceled is False
    assert state.amount_paid_sats == 1_000
    assert state.settled_at is not None
    assert lnd.requests[-1].path == f"/v1/invoice/{invoice.payment_hash}"


def test_lookup_canceled(backend: LndRestBackend, lnd: FakeLnd) -> None:
    invoice = backend.create_invoice(1_000, "memo", 600)
    lnd.cancel(invoice.payment_hash)
    state = backend.lookup_invoice(invoice.payment_hash)
    assert (state.settled, state.canceled, state.amount_paid_sats) == (False, True, None)


def test_subscription_receives_settlements(backend: LndRestBackend, lnd: FakeLnd) -> None:
    first = backend.create_invoice(100, "first", 600)
    second = backend.create_invoice(200, "second", 600)
    follower = Follower(backend)
    assert lnd.wait_for_subscribers(1)

    backend.create_invoice(300, "an update that is not a settlement", 600)
    lnd.settle(second.payment_hash)
    lnd.cancel(first.payment_hash)
    settled = follower.next()

    assert isinstance(settled, InvoiceState)
    assert settled.payment_hash == second.payment_hash
    assert settled.amount_paid_sats == 200 and settled.settled_at is not None
    assert follower.items.empty()

    backend.close()
    follower.thread.join(5)
    assert not follower.thread.is_alive()
    assert follower.next() is None


def test_a_new_subscription_resumes_after_the_last_settlement(
    backend: LndRestBackend, lnd: FakeLnd
) -> None:
    one, two, three = (backend.create_invoice(100, f"n{i}", 600) for i in range(3))
    settlements = backend.settlements()
    lnd.settle(one.payment_hash)  # before the stream opens: not part of this subscription
    follower_items: queue.Queue[InvoiceState] = queue.Queue()
    thread = threading.Thread(target=lambda: follower_items.put(next(settlements)), daemon=True)
    thread.start()
    assert lnd.wait_for_subscribers(1)
    lnd.settle(two.payment_hash)
    assert follower_items.get(timeout=DEADLINE).payment_hash == two.payment_hash
    thread.join(5)
    settlements.close()  # the consumer goes away; a settlement happens meanwhile
    lnd.settle(three.payment_hash)

    resumed = Follower(backend)
    item = resumed.next()
    assert isinstance(item, InvoiceState) and item.payment_hash == three.payment_hash
    assert "settle_index=2" in lnd.requests[-1].path


def test_an_idle_subscription_is_reopened_without_losing_anything(lnd: FakeLnd) -> None:
    backend = client_for(lnd, stream_idle_timeout=0.2)
    try:
        invoice = backend.create_invoice(100, "slow", 600)
        follower = Follower(backend)
        assert lnd.wait_for_subscribers(1)
        threading.Event().wait(0.7)  # several idle timeouts
        lnd.settle(invoice.payment_hash)
        item = follower.next()
        assert isinstance(item, InvoiceState) and item.payment_hash == invoice.payment_hash
        subscriptions = [r for r in lnd.requests if r.path.startswith("/v1/invoices/subscribe")]
        assert len(subscriptions) >= 2
    finally:
        backend.close()


def test_subscription_error_message(backend: LndRestBackend, lnd: FakeLnd) -> None:
    lnd.reply_next(200, b'{"error": {"code": 2, "message": "invoice registry stopped"}}\n')
    item = Follower(backend).next()
    assert isinstance(item, LightningUnavailable)
    assert "invoice registry stopped" in item.message


def test_subscription_to_a_node_that_goes_down(backend: LndRestBackend, lnd: FakeLnd) -> None:
    follower = Follower(backend)
    assert lnd.wait_for_subscribers(1)
    lnd.stop()
    item = follower.next()
    assert isinstance(item, LightningUnavailable)
    follower.thread.join(5)
    item = Follower(backend).next()
    assert isinstance(item, LightningUnavailable) and "cannot reach LND" in item.message


def test_wrong_macaroon(lnd: FakeLnd) -> None:
    for macaroon in (b"\x02" + os.urandom(40), None):
        backend = client_for(lnd, macaroon=macaroon)
        try:
            with pytest.raises(LightningUnavailable, match="refused the macaroon") as refused:
                backend.create_invoice(100, "memo", 600)
            assert refused.value.code == "backend_unavailable"
            with pytest.raises(LightningUnavailable, match="refused the macaroon"):
                backend.lookup_invoice("00" * 32)
            item = Follower(backend).next()
            assert isinstance(item, LightningUnavailable)
            assert "refused the macaroon" in item.message
        finally:
            backend.close()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        # An authenticating proxy in front of LND.
        (401, b"unauthorized"),
        (403, b"forbidden"),
        # LND itself, for a macaroon without the invoices:write permission.
        (500, b'{"code": 2, "message": "permission denied", "details": []}'),
    ],
)
def test_credentials_refused(
    backend: LndRestBackend, lnd: FakeLnd, status: int, body: bytes
) -> None:
    lnd.reply_next(status, body, "text/plain")
    with pytest.raises(LightningUnavailable, match=f"refused the macaroon \\(HTTP {status}\\)"):
        backend.create_invoice(100, "memo", 600)


def test_wrong_tls_certificate_pinned(lnd: FakeLnd) -> None:
    _, other_cert = self_signed_certificate()
    backend = client_for(lnd, tls_cert_pem=other_cert)
    try:
        with pytest.raises(LightningUnavailable, match="certificate") as refused:
            backend.create_invoice(100, "memo", 600)
        assert "NOTARIUM_LND_TLS_CERT_PATH" in refused.value.message
        item = Follower(backend).next()
        assert isinstance(item, LightningUnavailable) and "certificate" in item.message
    finally:
        backend.close()
    # Nothing reached the node: the handshake failed before any request.
    assert lnd.requests == []


def test_certificate_for_another_host(lnd: FakeLnd) -> None:
    # LND's certificate names the hosts it is valid for; the client checks them.
    key_pem, cert_pem = self_signed_certificate(dns_names=("lnd.internal",), ip_addresses=())
    lnd.stop()
    lnd.key_pem, lnd.cert_pem = key_pem, cert_pem
    lnd.start()
    backend = client_for(lnd)
    try:
        with pytest.raises(LightningUnavailable, match="certificate"):
            backend.create_invoice(100, "memo", 600)
    finally:
        backend.close()


def test_node_down(lnd: FakeLnd) -> None:
    backend = client_for(lnd)
    backend.create_invoice(100, "warm the connection pool", 600)
    lnd.stop()
    try:
        with pytest.raises(LightningUnavailable, match="cannot reach LND"):
            backend.create_invoice(100, "memo", 600)
        with pytest.raises(LightningUnavailable, match="cannot reach LND"):
            backend.lookup_invoice("00" * 32)
    finally:
        backend.close()


def test_unknown_hash(backend: LndRestBackend, lnd: FakeLnd) -> None:
    with pytest.raises(UnknownInvoice, match="no invoice with payment hash") as unknown:
        backend.lookup_invoice("ab" * 32)
    assert unknown.value.code == "unknown_invoice"
    # Nodes before 0.15 answer 500 with gRPC code 2 and these words.
    for message in ("unable to locate invoice", "there are no existing invoices"):
        body = json.dumps({"error": message, "message": message, "code": 2}).encode()
        lnd.reply_next(500, body)
        with pytest.raises(UnknownInvoice):
            backend.lookup_invoice("ab" * 32)


def test_malformed_hash_never_reaches_the_node(backend: LndRestBackend, lnd: FakeLnd) -> None:
    for bad in ("", "zz" * 32, "ab" * 31, "../getinfo"):
        with pytest.raises(UnknownInvoice, match="not a payment hash"):
            backend.lookup_invoice(bad)
    assert lnd.requests == []


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, b'{"code": 2, "message": "invoice registry stopped", "details": []}', "registry"),
        (503, b"Service Unavailable", "HTTP 503"),
        (200, b"<html>hello</html>", "not JSON"),
        (200, b"[1, 2]", "not an object"),
        (200, b'{"r_hash": "AAAA", "payment_request": "lnbcrt1"}', "32-byte r_hash"),
    ],
)
def test_errors_and_nonsense_on_create(
    backend: LndRestBackend, lnd: FakeLnd, status: int, body: bytes, message: str
) -> None:
    lnd.reply_next(status, body)
    with pytest.raises(LightningUnavailable, match=message):
        backend.create_invoice(100, "memo", 600)


def test_nonsense_on_lookup(backend: LndRestBackend, lnd: FakeLnd) -> None:
    invoice = backend.create_invoice(100, "memo", 600)
    other = backend.create_invoice(100, "other", 600)
    other_json = json.dumps(
        {"r_hash": base64.b64encode(bytes.fromhex(other.payment_hash)).decode(), "state": "OPEN"}
    ).encode()
    for body, message in (
        (b"not json", "not JSON"),
        (other_json, "asked for invoice"),
        (other_json.replace(b"OPEN", b"MELTED"), "unknown state"),
    ):
        lnd.reply_next(200, body)
        with pytest.raises(LightningUnavailable, match=message):
            backend.lookup_invoice(invoice.payment_hash)


def test_an_invoice_that_does_not_match_the_request_is_refused(
    backend: LndRestBackend, lnd: FakeLnd
) -> None:
    real = backend.create_invoice(1_000, "real", 600)
    r_hash = base64.b64encode(bytes.fromhex(real.payment_hash)).decode()

    # An invoice for another amount.
    lnd.reply_next(
        200, json.dumps({"r_hash": r_hash, "payment_request": real.payment_request}).encode()
    )
    with pytest.raises(LightningUnavailable, match="not 2000 sat"):
        backend.create_invoice(2_000, "real", 600)

    # A payment request whose hash is not the r_hash returned beside it.
    wrong_hash = base64.b64encode(os.urandom(32)).decode()
    lnd.reply_next(
        200, json.dumps({"r_hash": wrong_hash, "payment_request": real.payment_request}).encode()
    )
    with pytest.raises(LightningUnavailable, match="is not r_hash"):
        backend.create_invoice(1_000, "real", 600)

    # A payment request that does not decode (its checksum is broken).
    broken = real.payment_request[:-1] + ("q" if real.payment_request[-1] != "q" else "p")
    lnd.reply_next(200, json.dumps({"r_hash": r_hash, "payment_request": broken}).encode())
    with pytest.raises(LightningUnavailable, match="does not decode"):
        backend.create_invoice(1_000, "real", 600)


def test_impossible_requests_are_refused_before_the_node(
    backend: LndRestBackend, lnd: FakeLnd
) -> None:
    with pytest.raises(InvalidInvoiceRequest):
        backend.create_invoice(0, "memo", 600)
    assert lnd.requests == []


def test_closed_backend(backend: LndRestBackend) -> None:
    backend.close()
    with pytest.raises(LightningUnavailable, match="closed"):
        backend.create_invoice(100, "memo", 600)
    assert list(backend.settlements()) == []


def test_from_files_and_the_factory(lnd: FakeLnd, tmp_path: Path) -> None:
    macaroon_path, cert_path = lnd.write_credentials(tmp_path / "lnd")
    settings = Settings(
        data_dir=tmp_path / "data",
        lightning_backend="lnd",
        lnd_rest_url=lnd.url,
        lnd_macaroon_path=macaroon_path,
        lnd_tls_cert_path=cert_path,
    )
    backend = build_lightning(settings)
    try:
        assert isinstance(backend, LndRestBackend)
        invoice = backend.create_invoice(100, "from files", 600)
        assert backend.lookup_invoice(invoice.payment_hash).settled is False
    finally:
        backend.close()

    # A macaroon exported as hex text works the same.
    macaroon_path.write_text(lnd.macaroon.hex() + "\n")
    backend = build_lightning(settings)
    try:
        backend.create_invoice(100, "hex macaroon", 600)
    finally:
        backend.close()


def test_configuration_errors(tmp_path: Path) -> None:
    base = {"data_dir": tmp_path / "data", "lightning_backend": "lnd"}
    with pytest.raises(LndConfigurationError, match="NOTARIUM_LND_REST_URL"):
        build_lightning(Settings(**base))
    with pytest.raises(LndConfigurationError, match="https"):
        build_lightning(Settings(**base, lnd_rest_url="http://127.0.0.1:8080"))
    with pytest.raises(LndConfigurationError, match="cannot read the LND macaroon"):
        build_lightning(
            Settings(
                **base,
                lnd_rest_url="https://127.0.0.1:8080",
                lnd_macaroon_path=tmp_path / "missing.macaroon",
            )
        )
    not_a_cert = tmp_path / "tls.cert"
    not_a_cert.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    with pytest.raises(LndConfigurationError, match="not a PEM certificate"):
        build_lightning(
            Settings(**base, lnd_rest_url="https://127.0.0.1:8080", lnd_tls_cert_path=not_a_cert)
        )
