"""A Lightning backend for L402 tests that need what a real node never gives away: the
preimage of an invoice that is not paid, or a node that does not answer."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from notarium.adapters.lightning.ports import (
    Invoice,
    InvoiceState,
    LightningUnavailable,
    UnknownInvoice,
)


@dataclass
class FakeLightning:
    """Invoices whose preimages the test may read (``preimages``) and settle at will;
    ``unavailable`` makes every call fail as an unreachable node does."""

    preimages: dict[str, bytes] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)
    amounts: dict[str, int] = field(default_factory=dict)
    unavailable: str | None = None
    created: list[Invoice] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "fake"

    def _check(self) -> None:
        if self.unavailable is not None:
            raise LightningUnavailable(self.unavailable)

    def create_invoice(self, amount_sats: int, memo: str, expiry_seconds: int) -> Invoice:
        self._check()
        preimage = secrets.token_bytes(32)
        payment_hash = hashlib.sha256(preimage).hexdigest()
        self.preimages[payment_hash] = preimage
        self.amounts[payment_hash] = amount_sats
        now = datetime.now(UTC)
        invoice = Invoice(
            payment_request=f"lnfake{amount_sats}n1{payment_hash}",
            payment_hash=payment_hash,
            amount_sats=amount_sats,
            memo=memo,
            created_at=now,
            expires_at=now + timedelta(seconds=expiry_seconds),
        )
        self.created.append(invoice)
        return invoice

    def pay(self, payment_request: str) -> bytes:
        payment_hash = payment_request.rsplit("n1", 1)[1]
        self.settled.add(payment_hash)
        return self.preimages[payment_hash]

    def lookup_invoice(self, payment_hash: str) -> InvoiceState:
        self._check()
        if payment_hash not in self.preimages:
            raise UnknownInvoice(payment_hash)
        paid = payment_hash in self.settled
        return InvoiceState(
            payment_hash,
            settled=paid,
            settled_at=datetime.now(UTC) if paid else None,
            amount_paid_sats=self.amounts[payment_hash] if paid else None,
        )

    def settlements(self) -> Iterator[InvoiceState]:
        return iter(())

    def close(self) -> None:
        return None
