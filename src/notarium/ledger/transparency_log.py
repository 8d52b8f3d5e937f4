"""The transparency log kept in the database: a worker integrates new records as dense
leaves and signs a checkpoint; readers serve checkpoints and proofs.

Each process caches the tree's hashes; the log only grows, so the cache is always a
prefix of the stored log and catching up reads only the new leaves."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.models import LogCheckpoint, LogLeaf, Record
from notarium.adapters.store.schedules import claim_schedule
from notarium.core.clock import Clock
from notarium.formats.bundle import record_section
from notarium.formats.canonical import canonical_json
from notarium.formats.signing import RecordSigner
from notarium.formats.tlog.checkpoint import Checkpoint, sign_checkpoint
from notarium.formats.tlog.note import verifier_key_text
from notarium.formats.tlog.tlogproof import format_tlog_proof
from notarium.formats.tlog.tree import HashTree, leaf_hash
from notarium.ledger.records.facts import facts_of
from notarium.ledger.records.service import view_of


def record_leaf(row: Record) -> bytes:
    """A record's leaf data: the canonical JSON of the record section its proof bundle
    signs, so the log commits to exactly what the signature covers."""
    return canonical_json(record_section(facts_of(view_of(row)), row.tsa_token))


class TransparencyLog:
    def __init__(
        self,
        sessions: SessionFactory,
        read_sessions: SessionFactory,
        clock: Clock,
        signer: RecordSigner,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions
        self.clock = clock
        self.signer = signer
        self.origin = signer.name
        self._tree = HashTree()
        self._lock = threading.Lock()

    @property
    def verifier_key(self) -> str:
        return verifier_key_text(self.signer.name, self.signer.public_key_raw)

    def integrate(self, *, limit: int = 5000) -> int:
        """Append records not yet in the log and sign a new checkpoint; one integrator at
        a time across all workers, so indices stay dense."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            if not claim_schedule(session, "translog", now, timedelta(0)):
                return 0
            rows = session.scalars(
                select(Record)
                .where(Record.log_index.is_(None))
                .order_by(Record.created_at, Record.id)
                .limit(limit)
            ).all()
            if not rows:
                return 0
            size = session.scalar(select(func.count()).select_from(LogLeaf)) or 0
            with self._lock:
                if self._tree.size > size:
                    # An integration here was rolled back after extending the cache.
                    self._tree = HashTree()
                self._catch_up(session, size)
                for offset, row in enumerate(rows):
                    digest = leaf_hash(record_leaf(row))
                    row.log_index = size + offset
                    session.add(LogLeaf(idx=size + offset, record_id=row.id, leaf_hash=digest))
                    self._tree.append(digest)
                new_size = self._tree.size
                new_root = self._tree.root(new_size)
            note = sign_checkpoint(Checkpoint(self.origin, new_size, new_root), self.signer)
            session.add(LogCheckpoint(size=new_size, root=new_root, note=note, created_at=now))
        return len(rows)

    def _catch_up(self, session: Session, size: int) -> None:
        """Extend the cached tree to at least ``size`` leaves from the database."""
        if self._tree.size < size:
            hashes = session.scalars(
                select(LogLeaf.leaf_hash)
                .where(LogLeaf.idx >= self._tree.size, LogLeaf.idx < size)
                .order_by(LogLeaf.idx)
            ).all()
            self._tree.extend(hashes)

    @contextmanager
    def _tree_at(self, size: int) -> Iterator[HashTree]:
        """The cached tree, holding at least ``size`` leaves, locked against this
        process's integrations while the caller computes a proof."""
        with self.read_sessions() as session, self._lock:
            self._catch_up(session, size)
            yield self._tree

    def latest(self) -> LogCheckpoint | None:
        with self.read_sessions() as session:
            return session.scalar(
                select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)
            )

    def checkpoint_at(self, size: int) -> LogCheckpoint | None:
        with self.read_sessions() as session:
            return session.get(LogCheckpoint, size)

    def inclusion_proof(self, index: int, size: int) -> tuple[bytes, ...]:
        with self._tree_at(size) as tree:
            return tree.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> tuple[bytes, ...]:
        with self._tree_at(new_size) as tree:
            return tree.consistency_proof(old_size, new_size)

    def leaf_hash_at(self, index: int, size: int) -> bytes:
        with self._tree_at(size) as tree:
            return tree.leaf_hash(index)

    def tlog_proof(self, log_index: int) -> str | None:
        """The C2SP tlog-proof of one leaf against the latest checkpoint."""
        checkpoint = self.latest()
        if checkpoint is None or checkpoint.size <= log_index:
            return None
        hashes = self.inclusion_proof(log_index, checkpoint.size)
        return format_tlog_proof(log_index, hashes, checkpoint.note)
