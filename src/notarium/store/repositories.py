"""Queries, grouped by table. They take a session and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from notarium.store.models import (
    Account,
    ApiKey,
    IdempotencyEntry,
    Record,
    TsaIssuance,
    UsageCounter,
)


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, account: Account) -> None:
        self.session.add(account)

    def by_name(self, name: str) -> Account | None:
        return self.session.scalar(select(Account).where(Account.name == name))

    def by_id(self, account_id: str) -> Account | None:
        return self.session.get(Account, account_id)

    def all(self) -> Sequence[Account]:
        return self.session.scalars(select(Account).order_by(Account.created_at)).all()


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key: ApiKey) -> None:
        self.session.add(key)

    def by_hash(self, key_hash: str) -> tuple[ApiKey, Account] | None:
        row = self.session.execute(
            select(ApiKey, Account)
            .join(Account, Account.id == ApiKey.account_id)
            .where(ApiKey.key_hash == key_hash)
        ).first()
        return (row[0], row[1]) if row else None

    def by_id(self, key_id: str) -> ApiKey | None:
        return self.session.get(ApiKey, key_id)

    def for_account(self, account_id: str) -> Sequence[ApiKey]:
        return self.session.scalars(
            select(ApiKey).where(ApiKey.account_id == account_id).order_by(ApiKey.created_at)
        ).all()

    def revoke_active(self, account_id: str, mode: str, at: datetime) -> int:
        result = self.session.execute(
            update(ApiKey)
            .where(ApiKey.account_id == account_id, ApiKey.mode == mode)
            .where(ApiKey.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class RecordRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: Record) -> None:
        self.session.add(record)

    def owned(self, account_id: str, mode: str, record_id: str) -> Record | None:
        return self.session.scalar(
            select(Record).where(
                Record.id == record_id, Record.account_id == account_id, Record.mode == mode
            )
        )

    def owned_by_hash(self, account_id: str, mode: str, sha256: str) -> Record | None:
        return self.session.scalar(
            select(Record).where(
                Record.account_id == account_id, Record.mode == mode, Record.sha256 == sha256
            )
        )

    def page(
        self,
        account_id: str,
        mode: str,
        *,
        statuses: Sequence[str] | None,
        before: datetime | None,
        limit: int,
    ) -> tuple[Sequence[Record], int]:
        scope = select(Record).where(Record.account_id == account_id, Record.mode == mode)
        if statuses is not None:
            scope = scope.where(Record.status.in_(statuses))
        total = self.session.scalar(select(func.count()).select_from(scope.subquery())) or 0
        query = scope
        if before is not None:
            query = query.where(Record.created_at < before)
        rows = self.session.scalars(
            query.order_by(Record.created_at.desc(), Record.id.desc()).limit(limit)
        ).all()
        return rows, int(total)

    def public_by_hash(self, sha256: str) -> Sequence[Record]:
        return self.session.scalars(
            select(Record)
            .where(Record.sha256 == sha256, Record.mode == "live")
            .order_by(Record.created_at)
        ).all()

    def by_certificate_id(self, certificate_id: str) -> Record | None:
        return self.session.scalar(select(Record).where(Record.certificate_id == certificate_id))

    def certificate_id_taken(self, certificate_id: str) -> bool:
        return self.by_certificate_id(certificate_id) is not None


class TsaIssuanceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def allocate(self, *, issued_at: datetime, hash_algorithm: str, digest_hex: str) -> int:
        row = TsaIssuance(issued_at=issued_at, hash_algorithm=hash_algorithm, digest_hex=digest_hex)
        self.session.add(row)
        self.session.flush()
        return int(row.serial)


class UsageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def consume(self, account_id: str, period: str, limit: int) -> bool:
        """Take one unit of the period's allowance; False when none is left. The guarded
        UPDATE is atomic, so concurrent writers can never overshoot the limit."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        self.session.execute(
            insert(UsageCounter)
            .values(account_id=account_id, period=period, used=0)
            .on_conflict_do_nothing()
        )
        result = self.session.execute(
            update(UsageCounter)
            .where(
                UsageCounter.account_id == account_id,
                UsageCounter.period == period,
                UsageCounter.used < limit,
            )
            .values(used=UsageCounter.used + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def used(self, account_id: str, period: str) -> int:
        row = self.session.get(UsageCounter, (account_id, period))
        return row.used if row else 0


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(
        self, account_id: str, scope: str, key: str, *, lock: bool = False
    ) -> IdempotencyEntry | None:
        query = select(IdempotencyEntry).where(
            IdempotencyEntry.account_id == account_id,
            IdempotencyEntry.scope == scope,
            IdempotencyEntry.key == key,
        )
        if lock:
            query = query.with_for_update()
        return self.session.scalar(query)

    def add(self, entry: IdempotencyEntry) -> None:
        self.session.add(entry)
