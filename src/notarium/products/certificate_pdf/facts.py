"""What a certificate PDF states, as plain values: the record's facts, optional extra
sections (a web capture's URLs, screenshot and artifact hashes) and the files it carries.

The builder knows nothing about where these come from, so every kind of record (hash
timestamps, hash certificates, seals, web captures) is rendered by the same code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Literal

StatusWord = Literal["pending", "anchoring", "confirmed", "failed"]

#: Bumped whenever the layout changes, so cached PDFs of the old layout are replaced.
LAYOUT_VERSION = 2


@dataclass(frozen=True)
class AnchorFact:
    """One anchor of the record's batch as a reader needs it: what, where, how far."""

    kind: str
    """``ots`` (an OpenTimestamps calendar), ``bitcoin`` (an OP_RETURN transaction),
    ``rfc3161`` (an external time-stamp authority) or ``simulated`` (test mode)."""
    name: str
    """The calendar URL, Bitcoin node or external TSA URL (internal: not printed)."""
    state: str
    """``submitting``, ``waiting``, ``complete`` or ``failed``."""
    bitcoin_txid: str | None = None
    bitcoin_height: int | None = None
    bitcoin_time: datetime | None = None
    payload_sha256: str | None = None
    """Digest of the anchor's stored evidence: it changes whenever the evidence does."""
    authority: str | None = None
    """An external time-stamp authority's name, from the certificate that signed its token."""


@dataclass(frozen=True)
class LogEntryFact:
    """The record's leaf in the transparency log."""

    origin: str
    index: int
    in_checkpoint: bool = False
    """A signed checkpoint covers the leaf, so the proof carries its inclusion proof."""


@dataclass(frozen=True)
class CertificateFacts:
    """Everything the first part of a certificate states about one record."""

    title: str
    certificate_id: str
    record_id: str
    sha256: str
    created_at: datetime
    token_time: datetime
    """``genTime`` of the record's RFC 3161 token."""
    tsa_serial: int
    status: StatusWord
    verify_url: str
    organisation: str
    filename: str | None = None
    file_size_bytes: int | None = None
    file_type: str | None = None
    confirmed_at: datetime | None = None
    anchors: tuple[AnchorFact, ...] = ()
    log_entry: LogEntryFact | None = None
    test_mode: bool = False


@dataclass(frozen=True)
class Field:
    """One labelled value; ``mono`` sets it in a monospaced face (hashes, URLs)."""

    label: str
    value: str
    mono: bool = False


@dataclass(frozen=True)
class Table:
    """A table with a header row, e.g. artifact names and their SHA-256 hashes."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    mono_columns: frozenset[int] = frozenset()
    """Indexes of the columns set in a monospaced face."""


@dataclass(frozen=True)
class Image:
    """A PNG shown scaled to the text width, at most ``max_height_mm`` tall."""

    png: bytes = field(repr=False)
    caption: str | None = None
    max_height_mm: float = 90.0


@dataclass(frozen=True)
class Section:
    """An extra section after the record's own (or before, if ``leading``): fields, then
    paragraphs, a table and an image, each optional."""

    heading: str
    fields: tuple[Field, ...] = ()
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    image: Image | None = None
    leading: bool = False
    """Set right after the status, before the record's own facts: for what the record is
    about when its file is only a means (a web capture's page, not its manifest)."""


AfRelationship = Literal["Data", "Source", "Supplement", "Alternative", "Unspecified"]


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF and listed by viewers in their attachments panel."""

    name: str
    data: bytes = field(repr=False)
    mime_type: str
    description: str
    relationship: AfRelationship = "Data"


def fingerprint(facts: CertificateFacts, *, extra: tuple[str, ...] = ()) -> str:
    """A digest of every stated fact: two facts values render the same certificate
    exactly when their fingerprints match. ``extra`` folds in anything else the caller
    puts in the PDF (a digest of its sections or attachments, say)."""
    stated = asdict(facts)
    stated["layout"] = LAYOUT_VERSION
    stated["extra"] = list(extra)
    encoded = json.dumps(stated, sort_keys=True, default=_encode, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")
