"""What the L402 operations yield: plain values that the HTTP family turns into the
document's JSON. A paid result is stored with its token (as :func:`storable`), so a retry
of the paid request gets the same result back (through :func:`restored`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PaymentChallenge:
    invoice: str
    macaroon: str
    """Standard base64 of the binary macaroon."""
    amount_sats: int
    description: str
    payment_hash: str


@dataclass(frozen=True)
class FileFacts:
    filename: str
    size: int
    mime: str
    stored: bool


@dataclass(frozen=True)
class TimestampIssued:
    timestamp_id: str
    sha256: str
    status: str
    """The document's status name (queued, broadcasted, confirmed, failed)."""
    file: FileFacts | None = None
    webhook_secret: str | None = None
    """Only in the answer that set the webhook up: it is shown once."""
    already_timestamped: bool = False
    """Free: the hash was timestamped before and the request changes nothing."""


@dataclass(frozen=True)
class UpdateApplied:
    timestamp_id: str
    updated: Mapping[str, str | None]
    """The notification settings the update set, by field name (None: removed)."""
    webhook_secret: str | None = None


@dataclass(frozen=True)
class BitcoinAnchor:
    txid: str
    block_height: int | None
    op_return: str | None
    explorer_url: str


@dataclass(frozen=True)
class VerifyResult:
    found: bool
    sha256: str | None = None
    status: str | None = None
    """Of a found hash no Bitcoin block confirms yet."""
    anchor: BitcoinAnchor | None = None
    """The confirming transaction: the hash is verified exactly when there is one."""

    @property
    def verified(self) -> bool:
        return self.anchor is not None


@dataclass(frozen=True)
class StatusResult:
    status: str
    timestamp_id: str
    sha256: str
    txid: str | None
    confirmations: int
    block_height: int | None


PaidResult = TimestampIssued | UpdateApplied
Result = PaymentChallenge | TimestampIssued | UpdateApplied | VerifyResult | StatusResult


def storable(result: PaidResult) -> dict[str, Any]:
    """The result as JSON to keep with the token. Tokens redeemed before results were
    values kept the whole answer under the same keys, so both forms read back alike."""
    if isinstance(result, UpdateApplied):
        data: dict[str, Any] = {
            "timestamp_id": result.timestamp_id,
            "updated": dict(result.updated),
        }
    else:
        data = {"timestamp_id": result.timestamp_id, "hash": result.sha256, "status": result.status}
        if result.file is not None:
            data["file"] = {
                "filename": result.file.filename,
                "size": result.file.size,
                "mime": result.file.mime,
                "stored": result.file.stored,
            }
    if result.webhook_secret is not None:
        data["webhook_secret"] = result.webhook_secret
    return data


def restored(data: Mapping[str, Any]) -> PaidResult:
    secret = data.get("webhook_secret")
    if "updated" in data:
        return UpdateApplied(str(data["timestamp_id"]), dict(data["updated"]), secret)
    file = data.get("file")
    return TimestampIssued(
        timestamp_id=str(data["timestamp_id"]),
        sha256=str(data["hash"]),
        status=str(data["status"]),
        file=(
            FileFacts(
                str(file["filename"]), int(file["size"]), str(file["mime"]), bool(file["stored"])
            )
            if isinstance(file, Mapping)
            else None
        ),
        webhook_secret=secret,
    )
