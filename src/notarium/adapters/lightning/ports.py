"""The one Protocol every Lightning backend implements (LND over REST, the built-in
development node), and the values it hands back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from notarium.core.errors import NotariumError


class LightningUnavailable(NotariumError):
    """The node could not be reached, refused our credentials, or answered nonsense."""

    code = "backend_unavailable"


class UnknownInvoice(NotariumError):
    """The node has no invoice with that payment hash."""

    code = "unknown_invoice"


@dataclass(frozen=True)
class Invoice:
    payment_request: str
    """The BOLT11 string a wallet pays."""
    payment_hash: str
    """Lower-case hex of the 32-byte payment hash."""
    amount_sats: int
    memo: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class InvoiceState:
    payment_hash: str
    settled: bool
    settled_at: datetime | None = None
    amount_paid_sats: int | None = None
    canceled: bool = False


@runtime_checkable
class LightningBackend(Protocol):
    @property
    def name(self) -> str:
        """``dev`` or ``lnd``."""
        ...

    def create_invoice(self, amount_sats: int, memo: str, expiry_seconds: int) -> Invoice: ...

    def lookup_invoice(self, payment_hash: str) -> InvoiceState:
        """Raises :class:`UnknownInvoice` for a hash the node never issued."""
        ...

    def settlements(self) -> Iterator[InvoiceState]:
        """Blocks, yielding each invoice as it settles, until :meth:`close`."""
        ...

    def close(self) -> None: ...
