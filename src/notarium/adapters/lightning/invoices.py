"""BOLT11 payment requests as both backends see them: the limits an invoice request must
respect, and one decoder that turns a payment request into plain values (the signature
is checked by recovering the payee's key, as BOLT11 prescribes when no ``n`` field is
present)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import bolt11

from notarium.core.errors import ValidationError

#: A tagged field holds at most 1023 five-bit groups: 639 whole bytes of description.
MAX_MEMO_BYTES: Final = 639
#: LND refuses longer expiries too; a year is already far beyond any L402 challenge.
MAX_EXPIRY_SECONDS: Final = 365 * 24 * 3600
#: 21 million bitcoin.
MAX_AMOUNT_SATS: Final = 21_000_000 * 100_000_000

_PAYMENT_HASH = re.compile(r"[0-9a-f]{64}")


class InvalidInvoiceRequest(ValidationError):
    """An amount, memo or expiry no BOLT11 invoice can carry."""

    code = "invalid_invoice_request"


class MalformedInvoice(ValidationError):
    """A string that is not a valid, signed BOLT11 payment request."""

    code = "invalid_invoice"


@dataclass(frozen=True)
class DecodedInvoice:
    payment_request: str
    currency: str
    """The BOLT11 currency prefix after ``ln``: ``bc``, ``tb``, ``tbs`` or ``bcrt``."""
    payment_hash: str
    amount_msat: int | None
    memo: str
    created_at: datetime
    expires_at: datetime
    payee: str
    """Compressed secp256k1 public key (hex) that signed the invoice."""

    @property
    def amount_sats(self) -> int | None:
        if self.amount_msat is None or self.amount_msat % 1000:
            return None
        return self.amount_msat // 1000


def check_invoice_request(amount_sats: int, memo: str, expiry_seconds: int) -> None:
    """Raise :class:`InvalidInvoiceRequest` unless a BOLT11 invoice can carry these."""
    if isinstance(amount_sats, bool) or not isinstance(amount_sats, int):
        raise InvalidInvoiceRequest("the invoice amount must be a whole number of satoshis")
    if not 1 <= amount_sats <= MAX_AMOUNT_SATS:
        raise InvalidInvoiceRequest(
            f"the invoice amount must be between 1 and {MAX_AMOUNT_SATS} satoshis"
        )
    if isinstance(expiry_seconds, bool) or not isinstance(expiry_seconds, int):
        raise InvalidInvoiceRequest("the invoice expiry must be a whole number of seconds")
    if not 1 <= expiry_seconds <= MAX_EXPIRY_SECONDS:
        raise InvalidInvoiceRequest(
            f"the invoice expiry must be between 1 and {MAX_EXPIRY_SECONDS} seconds"
        )
    if len(memo.encode()) > MAX_MEMO_BYTES:
        raise InvalidInvoiceRequest(f"the invoice memo must fit in {MAX_MEMO_BYTES} bytes")


def normalise_payment_hash(payment_hash: str) -> str | None:
    """Lower-case hex of a 32-byte hash, or None when ``payment_hash`` is not one."""
    candidate = payment_hash.strip().lower()
    return candidate if _PAYMENT_HASH.fullmatch(candidate) else None


def decode_invoice(payment_request: str) -> DecodedInvoice:
    """Decode and check the signature of a BOLT11 payment request."""
    text = payment_request.strip()
    if text.lower().startswith("lightning:"):
        text = text[len("lightning:") :]
    try:
        decoded = bolt11.decode(text)
        payee = decoded.payee
        payment_hash = decoded.payment_hash
        description = decoded.description
        created = decoded.date
        expiry = decoded.expiry
    except Exception as exc:
        # The library raises its own exceptions, ValueError and errors of the bit-level
        # readers under it; to a caller they all mean the same thing.
        raise MalformedInvoice(f"not a valid BOLT11 payment request: {exc}") from exc
    if not isinstance(payee, str) or not isinstance(payment_hash, str):
        raise MalformedInvoice("the payment request has no payee or no payment hash")
    created_at = datetime.fromtimestamp(int(created), UTC)
    return DecodedInvoice(
        payment_request=text.lower(),
        currency=str(decoded.currency),
        payment_hash=payment_hash,
        amount_msat=None if decoded.amount_msat is None else int(decoded.amount_msat),
        memo=description or "",
        created_at=created_at,
        expires_at=created_at + timedelta(seconds=int(expiry)),
        payee=payee,
    )
