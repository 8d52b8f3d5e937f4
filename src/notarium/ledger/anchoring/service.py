"""Batching records under one Merkle root per interval, and driving every anchor of every
batch until it completes or fails. All progress is in database rows: a worker killed at
any point leaves rows that another worker (or the same one, restarted) picks up."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.models import Batch, BatchAnchor, Record
from notarium.adapters.store.schedules import claim_schedule
from notarium.core.clock import Clock
from notarium.formats.merkle import build_batch, proof_to_json
from notarium.ledger.anchoring.policy import AnchorOutcome, AnchorPolicy, batch_verdict
from notarium.ledger.anchoring.ports import Anchor, AnchorState
from notarium.ledger.events import ANCHORING, STATUS_EVENTS, EventSink, NullSink

log = logging.getLogger("notarium.ledger.anchoring")

MODES = ("live", "test")
RECORD_MARK = "#record="
"""Separates an anchor's name from the record it stamps, for per-record anchors."""
ACTIVE = ("submitting", "waiting")


@dataclass(frozen=True)
class _Claim:
    anchor_id: int
    batch_id: int
    name: str
    state: str
    payload: bytes | None
    attempts: int
    root: bytes


class AnchoringService:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        anchors: Sequence[Anchor],
        policy: AnchorPolicy,
        *,
        test_anchors: Sequence[Anchor] | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.events: EventSink = events or NullSink()
        # Test-mode records run the same pipeline against their own anchors, so they never
        # touch the live calendars or the node's wallet unless the operator says so.
        self.by_mode: dict[str, tuple[Anchor, ...]] = {
            "live": tuple(anchors),
            "test": tuple(anchors if test_anchors is None else test_anchors),
        }
        self.anchors = {a.name: a for mode in MODES for a in self.by_mode[mode]}
        self.policy = policy

    # -- batching ------------------------------------------------------------------

    def run_batcher(self, *, force: bool = False) -> list[int]:
        """Batch every pending record, once per interval across all workers; returns the
        ids of the batches made (none when it is not yet time or nothing is pending)."""
        if not self.anchors:
            return []
        now = self.clock.now()
        made: list[int] = []
        with self.sessions.begin() as session:
            interval = timedelta(seconds=self.policy.batch_interval)
            if not claim_schedule(session, "batcher", now, interval, force=force):
                return []
            for mode in MODES:
                if not self.by_mode[mode]:
                    continue
                batch_id = self._batch_mode(session, mode, now)
                if batch_id is not None:
                    made.append(batch_id)
        for batch_id in made:
            log.info("batch %s sealed", batch_id)
        return made

    def _batch_mode(self, session: Session, mode: str, now: datetime) -> int | None:
        rows = session.execute(
            select(Record.id, Record.sha256)
            .where(Record.status == "pending", Record.batch_id.is_(None), Record.mode == mode)
            .order_by(Record.created_at, Record.id)
            .limit(self.policy.max_batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            return None
        tree = build_batch([bytes.fromhex(sha256) for _, sha256 in rows])
        batch = Batch(
            mode=mode,
            root=tree.root,
            leaf_count=len(rows),
            status="anchoring",
            created_at=now,
        )
        session.add(batch)
        session.flush()
        session.execute(
            update(Record),
            [
                {
                    "id": record_id,
                    "batch_id": batch.id,
                    "leaf_nonce": proof.nonce,
                    "merkle_path": proof_to_json(proof),
                    "status": "anchoring",
                }
                for (record_id, _), proof in zip(rows, tree.proofs, strict=True)
            ],
        )
        self.events.emit(session, ANCHORING, [record_id for record_id, _ in rows])
        for anchor in self.by_mode[mode]:
            subjects: list[tuple[str, bytes | None]]
            if anchor.kind in self.policy.per_record_kinds:
                subjects = [
                    (f"{anchor.name}{RECORD_MARK}{rid}", bytes.fromhex(sha)) for rid, sha in rows
                ]
            else:
                subjects = [(anchor.name, None)]
            for name, subject in subjects:
                session.add(
                    BatchAnchor(
                        batch_id=batch.id,
                        name=name,
                        kind=anchor.kind,
                        state="submitting",
                        subject=subject,
                        attempts=0,
                        next_attempt_at=now,
                        updated_at=now,
                    )
                )
        return int(batch.id)

    # -- anchors -------------------------------------------------------------------

    def progress_anchors(self, *, limit: int = 16) -> int:
        """Submit or upgrade every anchor that is due; returns how many were worked on."""
        claims = self._claim_due(limit)
        for claim in claims:
            self._work(claim)
        return len(claims)

    def _claim_due(self, limit: int) -> list[_Claim]:
        now = self.clock.now()
        lease = timedelta(seconds=self.policy.lease_seconds)
        with self.sessions.begin() as session:
            rows = session.execute(
                select(BatchAnchor, Batch.root)
                .join(Batch, Batch.id == BatchAnchor.batch_id)
                .where(BatchAnchor.state.in_(ACTIVE), BatchAnchor.next_attempt_at <= now)
                .order_by(BatchAnchor.next_attempt_at, BatchAnchor.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=BatchAnchor)
            ).all()
            claims = []
            for row, root in rows:
                # The lease: nobody else takes this row until it lapses, and if this
                # worker dies the row simply becomes due again.
                row.next_attempt_at = now + lease
                claims.append(
                    _Claim(
                        row.id,
                        row.batch_id,
                        row.name,
                        row.state,
                        row.payload,
                        row.attempts,
                        row.subject or root,
                    )
                )
            return claims

    def _work(self, claim: _Claim) -> None:
        anchor = self.anchors.get(claim.name.split(RECORD_MARK, 1)[0])
        if anchor is None:
            self._record_failure(claim, "this anchor is no longer configured", final=True)
            return
        try:
            if claim.state == "submitting" or claim.payload is None:
                result = anchor.submit(claim.root)
            else:
                result = anchor.upgrade(claim.root, AnchorState(claim.payload, complete=False))
        except Exception as error:  # any failure is retried, then reported
            message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
            log.warning("anchor %s for batch %s: %s", claim.name, claim.batch_id, message)
            self._record_failure(claim, message)
            return
        self._record_progress(claim, result)

    def _record_progress(self, claim: _Claim, result: AnchorState) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = session.get(BatchAnchor, claim.anchor_id)
            if row is None or row.state not in ACTIVE:
                return
            row.payload = result.payload
            row.state = "complete" if result.complete else "waiting"
            row.attempts = 0
            row.last_error = None
            row.bitcoin_txid = result.bitcoin_txid
            row.bitcoin_height = result.bitcoin_height
            row.bitcoin_block_time = result.bitcoin_block_time
            row.next_attempt_at = now + timedelta(seconds=self.policy.upgrade_interval)
            row.updated_at = now
            self._settle(session, claim.batch_id, now)

    def _record_failure(self, claim: _Claim, message: str, *, final: bool = False) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            row = session.get(BatchAnchor, claim.anchor_id)
            if row is None or row.state not in ACTIVE:
                return
            row.attempts = claim.attempts + 1
            row.last_error = message[:2000]
            row.updated_at = now
            if final or row.attempts >= self.policy.retry_limit:
                row.state = "failed"
            else:
                row.next_attempt_at = now + self.policy.backoff(row.attempts)
            self._settle(session, claim.batch_id, now)

    def _settle(self, session: Session, batch_id: int, now: datetime) -> None:
        batch = session.get(Batch, batch_id, with_for_update=True)
        if batch is None or batch.status != "anchoring":
            return
        anchors = session.scalars(select(BatchAnchor).where(BatchAnchor.batch_id == batch_id)).all()
        verdict = batch_verdict(
            [AnchorOutcome(a.kind, a.state, a.bitcoin_height) for a in anchors], self.policy
        )
        if verdict == "anchoring":
            return
        batch.status = verdict
        values: dict[str, Any] = {"status": verdict}
        if verdict == "confirmed":
            attested = [
                a for a in anchors if a.bitcoin_height is not None and a.state == "complete"
            ]
            first = min(attested, key=lambda a: a.bitcoin_height or 0, default=None)
            batch.confirmed_at = now
            if first is not None:
                batch.bitcoin_height = first.bitcoin_height
                batch.bitcoin_txid = first.bitcoin_txid
            values |= {
                "confirmed_at": now,
                "bitcoin_block": batch.bitcoin_height,
                "blockchain_tx": batch.bitcoin_txid,
            }
        session.execute(update(Record).where(Record.batch_id == batch_id).values(**values))
        record_ids = session.scalars(select(Record.id).where(Record.batch_id == batch_id)).all()
        self.events.emit(session, STATUS_EVENTS[verdict], list(record_ids))
        log.info("batch %s %s", batch_id, verdict)
