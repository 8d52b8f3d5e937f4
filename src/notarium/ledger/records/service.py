"""Creating and reading records. A record and its token are written in one transaction,
so no crash can leave a record without its token."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notarium.adapters.store.db import SessionFactory
from notarium.adapters.store.models import Batch, BatchAnchor, Record
from notarium.adapters.store.repositories import (
    RecordRepository,
    TsaIssuanceRepository,
    UsageRepository,
)
from notarium.core.clock import Clock
from notarium.core.errors import QuotaExceededError
from notarium.ledger.accounts.plans import Plan
from notarium.ledger.events import CREATED, EventSink, NullSink
from notarium.ledger.records.errors import DuplicateRecord, RecordNotFound
from notarium.ledger.records.identifiers import new_certificate_id
from notarium.ledger.records.values import (
    AnchorEvidence,
    NewRecord,
    Owner,
    Page,
    PublicRecord,
    RecordEvidence,
    RecordView,
    Status,
)
from notarium.ledger.tsa.stamper import TokenIssuer

MAX_PAGE = 50


def view_of(row: Record) -> RecordView:
    return RecordView(
        id=row.id,
        certificate_id=row.certificate_id,
        sha256=row.sha256,
        filename=row.filename,
        file_size_bytes=row.file_size_bytes,
        file_type=row.file_type,
        status=row.status,  # type: ignore[arg-type]
        blockchain_tx=row.blockchain_tx,
        bitcoin_block=row.bitcoin_block,
        confirmed_at=row.confirmed_at,
        created_at=row.created_at,
        mode=row.mode,
        channel=row.channel,
        tsa_serial=row.tsa_serial,
        metadata=row.metadata_json,
        public_metadata=row.public_metadata,
    )


def public_view_of(row: Record) -> PublicRecord:
    shared = row.public_metadata
    return PublicRecord(
        certificate_id=row.certificate_id,
        sha256=row.sha256,
        created_at=row.created_at,
        status=row.status,  # type: ignore[arg-type]
        blockchain_tx=row.blockchain_tx,
        bitcoin_block=row.bitcoin_block,
        confirmed_at=row.confirmed_at,
        tsa_token=row.tsa_token,
        tsa_serial=row.tsa_serial,
        filename=row.filename if shared else None,
        file_type=row.file_type if shared else None,
        metadata=row.metadata_json if shared else None,
    )


def metadata_digest(new: NewRecord) -> str:
    """The record's ``metadata_digest`` (see the model): key order and spacing do not make
    metadata distinct, only its content."""
    if not (new.distinct_by_metadata and new.metadata):
        return ""
    text = json.dumps(new.metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def quota_period(instant: datetime) -> str:
    return instant.strftime("%Y-%m")


class RecordService:
    def __init__(
        self,
        sessions: SessionFactory,
        issuer: TokenIssuer,
        clock: Clock,
        *,
        read_sessions: SessionFactory | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.sessions = sessions
        self.read_sessions = read_sessions or sessions
        self.issuer = issuer
        self.clock = clock
        self.events: EventSink = events or NullSink()

    def create(
        self,
        owner: Owner,
        plan: Plan,
        new: NewRecord,
        *,
        also: Callable[[Session, RecordView], None] | None = None,
    ) -> RecordView:
        """Create the record and its token in one transaction. ``also`` runs inside that
        transaction, for rows that must exist exactly when the record does."""
        # The unique constraints decide duplicates, so the common path costs three
        # statements. A violation is either this owner's duplicate or, astronomically
        # rarely, a certificate id drawn twice; the latter is retried with a new id.
        for attempt in range(2):
            try:
                return self._insert(owner, plan, new, also)
            except IntegrityError:
                with self.read_sessions() as session:
                    existing = RecordRepository(session).owned_by_hash(
                        owner.account_id, owner.mode, new.sha256, metadata_digest(new)
                    )
                if existing is not None:
                    raise DuplicateRecord(existing.id, existing.certificate_id) from None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _insert(
        self,
        owner: Owner,
        plan: Plan,
        new: NewRecord,
        also: Callable[[Session, RecordView], None] | None = None,
    ) -> RecordView:
        with self.sessions.begin() as session:
            now = self.clock.now()
            serial = TsaIssuanceRepository(session).allocate(
                issued_at=now, hash_algorithm="sha256", digest_hex=new.sha256
            )
            token = self.issuer.issue(
                digest=bytes.fromhex(new.sha256), serial=serial, include_certs=True
            )
            view = RecordView(
                id=str(uuid.uuid4()),
                certificate_id=new.certificate_id or new_certificate_id(new.channel),
                sha256=new.sha256,
                filename=new.filename,
                file_size_bytes=new.file_size_bytes,
                file_type=new.file_type,
                status="pending",
                blockchain_tx=None,
                bitcoin_block=None,
                confirmed_at=None,
                created_at=now,
                mode=owner.mode,
                channel=new.channel,
                tsa_serial=serial,
                metadata=new.metadata,
                public_metadata=new.public_metadata,
            )
            RecordRepository(session).insert(
                {
                    "id": view.id,
                    "account_id": owner.account_id,
                    "mode": owner.mode,
                    "channel": new.channel,
                    "certificate_id": view.certificate_id,
                    "sha256": new.sha256,
                    "filename": new.filename,
                    "file_size_bytes": new.file_size_bytes,
                    "file_type": new.file_type,
                    "metadata_json": new.metadata,
                    "metadata_digest": metadata_digest(new),
                    "public_metadata": new.public_metadata,
                    "status": view.status,
                    "created_at": now,
                    "tsa_serial": serial,
                    "tsa_token": token.der,
                }
            )
            # Last, so the account's counter row stays locked only until the commit.
            # Test-mode records run the whole pipeline but never bill the live allowance.
            if owner.mode == "live" and not UsageRepository(session).consume(
                owner.account_id, quota_period(now), plan.monthly_timestamps
            ):
                raise QuotaExceededError(
                    f"The {plan.name} plan's allowance of {plan.monthly_timestamps} "
                    "timestamps this month is used up.",
                    code="MONTHLY_LIMIT_REACHED",
                )
            if also is not None:
                also(session, view)
            self.events.emit(session, CREATED, [view.id])
            return view

    def get(self, owner: Owner, record_id: str) -> RecordView:
        with self.read_sessions() as session:
            row = RecordRepository(session).owned(owner.account_id, owner.mode, record_id)
            if row is None:
                raise RecordNotFound()
            return view_of(row)

    def get_by_public_id(self, owner: Owner, certificate_id: str) -> RecordView:
        with self.read_sessions() as session:
            row = RecordRepository(session).owned_by_certificate_id(
                owner.account_id, owner.mode, certificate_id
            )
            if row is None:
                raise RecordNotFound()
            return view_of(row)

    def token(self, owner: Owner, record_id: str) -> tuple[RecordView, bytes]:
        with self.read_sessions() as session:
            row = RecordRepository(session).owned(owner.account_id, owner.mode, record_id)
            if row is None:
                raise RecordNotFound()
            return view_of(row), row.tsa_token

    def evidence(self, owner: Owner, record_id: str) -> RecordEvidence:
        with self.read_sessions() as session:
            row = RecordRepository(session).owned(owner.account_id, owner.mode, record_id)
            if row is None:
                raise RecordNotFound()
            root = None
            anchors: tuple[AnchorEvidence, ...] = ()
            if row.batch_id is not None:
                batch = session.get(Batch, row.batch_id)
                root = batch.root if batch is not None else None
                digest = bytes.fromhex(row.sha256)
                anchors = tuple(
                    AnchorEvidence(
                        a.kind,
                        a.name,
                        a.state,
                        a.payload,
                        a.bitcoin_txid,
                        a.bitcoin_height,
                        per_record=a.subject is not None,
                    )
                    for a in session.scalars(
                        select(BatchAnchor)
                        .where(BatchAnchor.batch_id == row.batch_id)
                        # Per-record anchors of the batch's other records are not this
                        # record's evidence.
                        .where(or_(BatchAnchor.subject.is_(None), BatchAnchor.subject == digest))
                        .order_by(BatchAnchor.id)
                    )
                )
            return RecordEvidence(
                view=view_of(row),
                token=row.tsa_token,
                leaf_nonce=row.leaf_nonce,
                merkle_path=row.merkle_path,
                batch_root=root,
                anchors=anchors,
                log_index=row.log_index,
            )

    def page(
        self,
        owner: Owner,
        *,
        statuses: Sequence[Status] | None,
        before: datetime | None,
        limit: int,
    ) -> Page:
        limit = max(1, min(limit, MAX_PAGE))
        with self.read_sessions() as session:
            rows, total = RecordRepository(session).page(
                owner.account_id, owner.mode, statuses=statuses, before=before, limit=limit + 1
            )
        items = tuple(view_of(r) for r in rows[:limit])
        more = len(rows) > limit
        return Page(
            items=items,
            total_count=total,
            next_cursor=items[-1].created_at if more and items else None,
        )

    def public_by_hash(self, sha256: str) -> list[PublicRecord]:
        with self.read_sessions() as session:
            return [public_view_of(r) for r in RecordRepository(session).public_by_hash(sha256)]

    def public_by_certificate_id(self, certificate_id: str) -> PublicRecord:
        with self.read_sessions() as session:
            row = RecordRepository(session).by_certificate_id(certificate_id)
            if row is None or row.mode != "live":
                raise RecordNotFound("No certificate with this id exists.")
            return public_view_of(row)

    def usage(self, account_id: str) -> int:
        with self.read_sessions() as session:
            return UsageRepository(session).used(account_id, quota_period(self.clock.now()))
