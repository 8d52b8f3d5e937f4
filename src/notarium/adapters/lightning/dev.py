"""The built-in development Lightning node (``NOTARIUM_LIGHTNING_BACKEND=dev``).

It issues real BOLT11 invoices, signed by a secp256k1 node key generated on first use
and kept in the keys directory, so any BOLT11 decoder accepts them; but no payment ever
crosses a network: :meth:`DevLightningNode.pay` (``notarium dev pay``) settles one of
its own invoices on this machine and hands back the preimage, which is all an L402
client needs. Invoices live in :mod:`notarium.adapters.lightning.dev_store`, shared by the
server and the command line.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import bolt11
from coincurve import PrivateKey

from notarium.adapters.lightning.dev_store import DevInvoiceStore, StoredInvoice
from notarium.adapters.lightning.invoices import (
    check_invoice_request,
    decode_invoice,
    normalise_payment_hash,
)
from notarium.adapters.lightning.ports import Invoice, InvoiceState, UnknownInvoice
from notarium.adapters.pki.files import publish_new
from notarium.core.clock import Clock, SystemClock
from notarium.core.errors import ConfigurationError, NotariumError
from notarium.core.timefmt import iso_millis

NODE_KEY_FILE: Final = "lightning-node.key.pem"
CURRENCIES: Final = ("bc", "tb", "tbs", "bcrt")
#: LND's default final CLTV delta; a wallet reading the invoice expects one.
MIN_FINAL_CLTV_EXPIRY: Final = 80
DEFAULT_POLL_INTERVAL: Final = 0.25

_FEATURES = bolt11.Features.from_feature_list(
    {
        bolt11.Feature.var_onion_optin: bolt11.FeatureState.required,
        bolt11.Feature.payment_secret: bolt11.FeatureState.required,
    }
)


class PaymentRefused(NotariumError):
    """``pay`` will not settle this invoice."""

    code = "payment_refused"


class InvoiceAlreadyPaid(PaymentRefused):
    code = "invoice_already_paid"


class InvoiceExpired(PaymentRefused):
    code = "invoice_expired"


class ForeignInvoice(PaymentRefused):
    """Signed by another node (or for another network): this node cannot settle it."""

    code = "foreign_invoice"


class NodeKeyError(ConfigurationError):
    code = "LIGHTNING_NODE_KEY_UNREADABLE"


def load_node_key(keys_dir: Path) -> PrivateKey:
    """The node key in ``keys_dir``, generated (mode 0600) if there is none yet."""
    path = Path(keys_dir) / NODE_KEY_FILE
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # If another process wins the race, its key is the one everyone uses.
        publish_new(path, PrivateKey().to_pem(), 0o600)
    try:
        return PrivateKey.from_pem(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise NodeKeyError(f"cannot read the development node key {path}: {exc}") from exc


class DevLightningNode:
    """``DevLightningNode(settings.keys_dir, settings.data_dir / "lightning-dev")``."""

    def __init__(
        self,
        keys_dir: Path,
        state_dir: Path,
        *,
        currency: str = "bcrt",
        clock: Clock | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        if currency not in CURRENCIES:
            raise ConfigurationError(
                f"unknown BOLT11 currency {currency!r}; expected one of {', '.join(CURRENCIES)}"
            )
        if poll_interval <= 0:
            raise ConfigurationError("the settlement poll interval must be positive")
        self._keys_dir = Path(keys_dir)
        self._store = DevInvoiceStore(state_dir)
        self._currency = currency
        self._clock = clock or SystemClock()
        self._poll_interval = poll_interval
        self._key: PrivateKey | None = None
        self._key_lock = threading.Lock()
        self._closed = threading.Event()

    @property
    def name(self) -> str:
        return "dev"

    @property
    def currency(self) -> str:
        return self._currency

    @property
    def node_id(self) -> str:
        """The node's compressed public key in hex, as wallets show a payee."""
        return self._node_key().public_key.format(compressed=True).hex()

    # -- LightningBackend -----------------------------------------------------------

    def create_invoice(self, amount_sats: int, memo: str, expiry_seconds: int) -> Invoice:
        check_invoice_request(amount_sats, memo, expiry_seconds)
        # BOLT11 timestamps are whole seconds; the stored times match the signed ones.
        created_at = self._clock.now().replace(microsecond=0)
        preimage = os.urandom(32)
        payment_hash = hashlib.sha256(preimage).hexdigest()
        unsigned = bolt11.Bolt11(
            currency=self._currency,
            date=int(created_at.timestamp()),
            amount_msat=bolt11.MilliSatoshi(amount_sats * 1000),
            tags=bolt11.Tags(
                [
                    bolt11.Tag(bolt11.TagChar.payment_hash, payment_hash),
                    bolt11.Tag(bolt11.TagChar.payment_secret, os.urandom(32).hex()),
                    bolt11.Tag(bolt11.TagChar.description, memo),
                    bolt11.Tag(bolt11.TagChar.expire_time, expiry_seconds),
                    bolt11.Tag(bolt11.TagChar.min_final_cltv_expiry, MIN_FINAL_CLTV_EXPIRY),
                    bolt11.Tag(bolt11.TagChar.features, _FEATURES),
                ]
            ),
        )
        payment_request = str(bolt11.encode(unsigned, self._node_key().secret.hex()))
        expires_at = created_at + timedelta(seconds=expiry_seconds)
        self._store.add(
            StoredInvoice(
                payment_hash=payment_hash,
                preimage=preimage,
                payment_request=payment_request,
                amount_sats=amount_sats,
                memo=memo,
                created_at=created_at,
                expires_at=expires_at,
                settled_at=None,
                settle_index=None,
            )
        )
        return Invoice(
            payment_request=payment_request,
            payment_hash=payment_hash,
            amount_sats=amount_sats,
            memo=memo,
            created_at=created_at,
            expires_at=expires_at,
        )

    def lookup_invoice(self, payment_hash: str) -> InvoiceState:
        stored = self._stored(payment_hash)
        return self._state(stored, self._clock.now())

    def settlements(self) -> Iterator[InvoiceState]:
        """Invoices settled from this call on, in settlement order. Polls the invoice
        file: settlements may come from another process."""
        # Taken now, not at the first next(): what is settled after this call is seen.
        return self._follow(self._store.last_settle_index())

    def _follow(self, last: int) -> Iterator[InvoiceState]:
        while not self._closed.is_set():
            for stored in self._store.settled_after(last):
                last = stored.settle_index or last
                yield self._state(stored, self._clock.now())
            if self._closed.wait(self._poll_interval):
                return

    def close(self) -> None:
        self._closed.set()

    # -- the wallet side ------------------------------------------------------------

    def pay(self, payment_request: str) -> bytes:
        """Settle one of this node's open invoices; returns the 32-byte preimage.

        Refused (:class:`PaymentRefused` subclasses) for an invoice signed by another
        node or for another network, an expired one, or one already paid;
        :class:`~notarium.adapters.lightning.invoices.MalformedInvoice` for anything that is not a
        signed BOLT11 payment request.
        """
        decoded = decode_invoice(payment_request)
        if decoded.payee != self.node_id:
            raise ForeignInvoice(
                f"the invoice was signed by node {decoded.payee}, not by this development "
                f"node ({self.node_id}); pay it with a Lightning wallet"
            )
        if decoded.currency != self._currency:
            raise ForeignInvoice(
                f"the invoice is for network 'ln{decoded.currency}', this development node "
                f"issues 'ln{self._currency}' invoices"
            )
        now = self._clock.now()
        outcome, stored = self._store.settle(decoded.payment_hash, now)
        if outcome == "unknown" or stored is None:
            raise UnknownInvoice(
                f"this development node has no record of invoice {decoded.payment_hash} "
                f"(was {self._store.path} removed?)"
            )
        if outcome == "already_paid":
            raise InvoiceAlreadyPaid(
                f"invoice {decoded.payment_hash} was already paid at "
                f"{_iso(stored.settled_at)}; an invoice is paid once"
            )
        if outcome == "expired":
            raise InvoiceExpired(
                f"invoice {decoded.payment_hash} expired at {_iso(stored.expires_at)}; "
                "request a new one"
            )
        return stored.preimage

    # -- internals ------------------------------------------------------------------

    def _node_key(self) -> PrivateKey:
        with self._key_lock:
            if self._key is None:
                self._key = load_node_key(self._keys_dir)
            return self._key

    def _stored(self, payment_hash: str) -> StoredInvoice:
        normalised = normalise_payment_hash(payment_hash)
        if normalised is None:
            raise UnknownInvoice(f"{payment_hash!r} is not a payment hash (64 hex digits)")
        stored = self._store.get(normalised)
        if stored is None:
            raise UnknownInvoice(f"this development node never issued invoice {normalised}")
        return stored

    @staticmethod
    def _state(stored: StoredInvoice, now: datetime) -> InvoiceState:
        settled = stored.settled_at is not None
        return InvoiceState(
            payment_hash=stored.payment_hash,
            settled=settled,
            settled_at=stored.settled_at,
            amount_paid_sats=stored.amount_sats if settled else None,
            # As LND does, an invoice left unpaid past its expiry counts as canceled.
            canceled=not settled and stored.expires_at <= now,
        )


def _iso(moment: datetime | None) -> str:
    return iso_millis(moment) if moment is not None else "an unknown time"
