"""Reading L402 timestamps, and any live record by hash for verification, with the
anchor facts the document reports (transaction, block, OP_RETURN)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.models import Batch, BatchAnchor, L402Timestamp, Record

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


def _bitcoin_payload(anchor: BatchAnchor) -> dict[str, object] | None:
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
            row = session.scalar(
                select(Record).where(
                    Record.account_id == account_id, Record.certificate_id == timestamp_id
                )
            )
            return self._facts(session, row) if row is not None else None

    def by_hash(self, account_id: str, sha256: str) -> TimestampFacts | None:
        with self.sessions() as session:
            row = session.scalar(
                select(Record)
                .where(Record.account_id == account_id, Record.sha256 == sha256)
                .order_by(Record.created_at)
                .limit(1)
            )
            return self._facts(session, row) if row is not None else None

    def verification(self, sha256: str) -> TimestampFacts | None:
        """The best evidence for ``sha256`` among every live record: the earliest one a
        Bitcoin block confirms, else the earliest one at all."""
        with self.sessions() as session:
            rows = session.scalars(
                select(Record)
                .where(Record.sha256 == sha256, Record.mode == "live")
                .order_by(Record.created_at)
                .limit(50)
            ).all()
            if not rows:
                return None
            confirmed = [r for r in rows if r.status == "confirmed" and r.blockchain_tx]
            best = min(confirmed, key=lambda r: r.bitcoin_block or 0) if confirmed else rows[0]
            return self._facts(session, best, with_op_return=True)

    def _facts(
        self, session: Session, row: Record, *, with_op_return: bool = False
    ) -> TimestampFacts:
        extra = session.get(L402Timestamp, row.id)
        anchors = (
            session.scalars(
                select(BatchAnchor)
                .where(BatchAnchor.batch_id == row.batch_id)
                .order_by(BatchAnchor.id)
            ).all()
            if row.batch_id is not None
            else []
        )
        txid = row.blockchain_tx
        if txid is None and row.status == "anchoring":
            # The node's wallet has broadcast its transaction; say which one.
            for anchor in anchors:
                payload = _bitcoin_payload(anchor)
                if payload is not None and isinstance(payload.get("txid"), str):
                    txid = str(payload["txid"])
                    break
        op_return = None
        if with_op_return and row.status == "confirmed" and row.blockchain_tx:
            op_return = self._op_return(session, row, anchors)
        return TimestampFacts(
            record_id=row.id,
            timestamp_id=row.certificate_id,
            sha256=row.sha256,
            status=row.status,
            txid=txid,
            block_height=row.bitcoin_block,
            filename=row.filename,
            size=row.file_size_bytes,
            mime=row.file_type,
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
            heights = session.scalars(
                select(BatchAnchor.bitcoin_height)
                .where(BatchAnchor.bitcoin_height.is_not(None))
                .order_by(BatchAnchor.id.desc())
                .limit(64)
            ).all()
        return max((h for h in heights if h is not None), default=None)

    def _op_return(
        self, session: Session, row: Record, anchors: Sequence[BatchAnchor]
    ) -> str | None:
        """``<prefix>|<batch Merkle root>`` when the confirming transaction is the node
        wallet's own OP_RETURN. A calendar's transaction commits to the calendar's own
        tree, which only the record's OpenTimestamps proof leads to: then
        ``opentimestamps|<batch Merkle root>``, the root the calendars were given."""
        attested = [a for a in anchors if a.bitcoin_txid == row.blockchain_tx]
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
        batch = session.get(Batch, row.batch_id) if row.batch_id is not None else None
        root_bytes = (source.subject if source else None) or (batch.root if batch else None)
        if root_bytes is None:
            return None
        if confirming is not None:
            return f"{self.op_return_prefix}|{root_bytes.hex()}"
        return f"{OTS_OP_RETURN}|{root_bytes.hex()}"
