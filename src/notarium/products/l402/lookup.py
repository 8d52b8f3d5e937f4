"""Reading L402 timestamps, and any live record by hash for verification, with the
anchor facts the document reports (transaction, block, OP_RETURN)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from notarium.adapters.store.db import SessionFactory
from notarium.products.l402.repository import AnchorFacts, L402Repository, RecordFacts

# `op_return` of a timestamp that OpenTimestamps calendars confirmed (docs/api.md).
OTS_OP_RETURN = "opentimestamps"


@dataclass(frozen=True)
class TimestampFacts:
    record_id: str
    timestamp_id: str
    sha256: str
    status: str
    """The pipeline's status (pending, anchoring, confirmed, failed)."""
    txid: str | None
    block_height: int | None
    filename: str
    size: int
    mime: str | None
    file_stored: bool
    op_return: str | None = None
    webhook_url: str | None = None
    notification_email: str | None = None


def _bitcoin_payload(anchor: AnchorFacts) -> dict[str, object] | None:
    if anchor.kind != "bitcoin" or anchor.payload is None:
        return None
    try:
        payload = json.loads(anchor.payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def _prefix_text(prefix: bytes) -> str:
    try:
        text = prefix.decode("ascii")
    except UnicodeDecodeError:
        return prefix.hex()
    return text if text.isprintable() else prefix.hex()


class TimestampReader:
    def __init__(self, sessions: SessionFactory, *, op_return_prefix: str) -> None:
        self.sessions = sessions
        self.op_return_prefix = op_return_prefix

    def by_timestamp_id(self, account_id: str, timestamp_id: str) -> TimestampFacts | None:
        with self.sessions() as session:
            rows = L402Repository(session)
            record = rows.record_by_timestamp_id(account_id, timestamp_id)
            return self._facts(rows, record) if record is not None else None

    def by_hash(self, account_id: str, sha256: str) -> TimestampFacts | None:
        with self.sessions() as session:
            rows = L402Repository(session)
            record = rows.first_record_by_hash(account_id, sha256)
            return self._facts(rows, record) if record is not None else None

    def verification(self, sha256: str) -> TimestampFacts | None:
        """The best evidence for ``sha256`` among every live record: the earliest one a
        Bitcoin block confirms, else the earliest one at all."""
        with self.sessions() as session:
            rows = L402Repository(session)
            records = rows.live_records(sha256, limit=50)
            if not records:
                return None
            confirmed = [r for r in records if r.status == "confirmed" and r.txid]
            best = min(confirmed, key=lambda r: r.block_height or 0) if confirmed else records[0]
            return self._facts(rows, best, with_op_return=True)

    def _facts(
        self, rows: L402Repository, record: RecordFacts, *, with_op_return: bool = False
    ) -> TimestampFacts:
        extra = rows.settings(record.id)
        anchors = rows.anchors(record.batch_id) if record.batch_id is not None else []
        txid = record.txid
        if txid is None and record.status == "anchoring":
            # The node's wallet has broadcast its transaction; say which one.
            for anchor in anchors:
                payload = _bitcoin_payload(anchor)
                if payload is not None and isinstance(payload.get("txid"), str):
                    txid = str(payload["txid"])
                    break
        op_return = None
        if with_op_return and record.status == "confirmed" and record.txid:
            op_return = self._op_return(rows, record, anchors)
        return TimestampFacts(
            record_id=record.id,
            timestamp_id=record.timestamp_id,
            sha256=record.sha256,
            status=record.status,
            txid=txid,
            block_height=record.block_height,
            filename=record.filename,
            size=record.size,
            mime=record.mime,
            file_stored=bool(extra and extra.file_stored),
            op_return=op_return,
            webhook_url=extra.webhook_url if extra and extra.webhook_endpoint_id else None,
            notification_email=extra.notification_email if extra else None,
        )

    def best_attested_height(self) -> int | None:
        """The highest Bitcoin block any anchor of this service has reported: the best
        height known without asking a node. Heights grow with time, so the newest
        attestations hold it; reading only those keeps this one short index scan."""
        with self.sessions() as session:
            heights = L402Repository(session).newest_attested_heights(64)
        return max(heights, default=None)

    def _op_return(
        self, rows: L402Repository, record: RecordFacts, anchors: Sequence[AnchorFacts]
    ) -> str | None:
        """``<prefix>|<batch Merkle root>`` when the confirming transaction is the node
        wallet's own OP_RETURN. A calendar's transaction commits to the calendar's own
        tree, which only the record's OpenTimestamps proof leads to: then
        ``opentimestamps|<batch Merkle root>``, the root the calendars were given."""
        attested = [a for a in anchors if a.bitcoin_txid == record.txid]
        confirming = next((a for a in attested if a.kind == "bitcoin"), None)
        if confirming is not None:
            payload = _bitcoin_payload(confirming)
            if payload is not None:
                prefix, root = payload.get("prefix"), payload.get("root")
                if isinstance(prefix, str) and isinstance(root, str):
                    try:
                        return f"{_prefix_text(bytes.fromhex(prefix))}|{root}"
                    except ValueError:
                        pass
        calendar = next((a for a in attested if a.kind == "ots"), None)
        source = confirming or calendar
        batch_root = rows.batch_root(record.batch_id) if record.batch_id is not None else None
        root_bytes = (source.subject if source else None) or batch_root
        if root_bytes is None:
            return None
        if confirming is not None:
            return f"{self.op_return_prefix}|{root_bytes.hex()}"
        return f"{OTS_OP_RETURN}|{root_bytes.hex()}"
