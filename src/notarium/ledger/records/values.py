"""Values handed across the records service boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["pending", "anchoring", "confirmed", "failed"]
STATUSES: tuple[Status, ...] = ("pending", "anchoring", "confirmed", "failed")
# The certificate API's and webhooks' name for each status: a pending record has been
# created and time-stamped but not yet batched.
PUBLIC_STATUS: dict[str, str] = {
    "pending": "created",
    "anchoring": "anchoring",
    "confirmed": "confirmed",
    "failed": "failed",
}


@dataclass(frozen=True)
class Owner:
    """Whose record it is and in which mode; every lookup is scoped by both."""

    account_id: str
    mode: str


@dataclass(frozen=True)
class NewRecord:
    sha256: str
    filename: str
    file_size_bytes: int
    file_type: str | None = None
    channel: str = "timestamps"
    metadata: dict[str, Any] | None = None
    public_metadata: bool = False
    certificate_id: str | None = None
    """Chosen by the caller when the id must appear inside the hashed content itself (a
    capture's manifest names its certificate); drawn at random otherwise."""
    distinct_by_metadata: bool = False
    """Whether records of one hash with different metadata are different records (hash
    certificates, issued per end-customer) rather than duplicates."""


@dataclass(frozen=True)
class RecordView:
    id: str
    certificate_id: str
    sha256: str
    filename: str
    file_size_bytes: int
    file_type: str | None
    status: Status
    blockchain_tx: str | None
    bitcoin_block: int | None
    confirmed_at: datetime | None
    created_at: datetime
    mode: str
    channel: str
    tsa_serial: int
    metadata: dict[str, Any] | None = None
    public_metadata: bool = False


@dataclass(frozen=True)
class Page:
    items: tuple[RecordView, ...]
    total_count: int
    next_cursor: datetime | None


@dataclass(frozen=True)
class PublicRecord:
    """What anyone may learn about a record: never the account, the metadata only when
    the owner made it public."""

    certificate_id: str
    sha256: str
    created_at: datetime
    status: Status
    blockchain_tx: str | None
    bitcoin_block: int | None
    confirmed_at: datetime | None
    tsa_token: bytes
    tsa_serial: int
    filename: str | None = None
    file_type: str | None = None
    metadata: dict[str, Any] | None = field(default=None)


@dataclass(frozen=True)
class AnchorEvidence:
    kind: str
    name: str
    state: str
    payload: bytes | None
    bitcoin_txid: str | None
    bitcoin_height: int | None
    per_record: bool = False
    """The anchor committed to this record's own hash rather than the batch root."""


@dataclass(frozen=True)
class RecordEvidence:
    """Everything stored about a record that goes into its proofs."""

    view: RecordView
    token: bytes
    leaf_nonce: bytes | None
    merkle_path: dict[str, Any] | None
    batch_root: bytes | None
    anchors: tuple[AnchorEvidence, ...]
    log_index: int | None
