"""Queries, grouped by table. They take a session and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from notarium.adapters.store.models import (
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

    def owned_by_certificate_id(
        self, account_id: str, mode: str, certificate_id: str
    ) -> Record | None:
        return self.session.scalar(
            select(Record).where(
                Record.certificate_id == certificate_id,
                Record.account_id == account_id,
                Record.mode == mode,
            )
        )

    def owned_by_hash(
        self, account_id: str, mode: str, sha256: str, metadata_digest: str = ""
    ) -> Record | None:
        return self.session.scalar(
            select(Record).where(
                Record.account_id == account_id,
                Record.mode == mode,
                Record.sha256 == sha256,
                Record.metadata_digest == metadata_digest,
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

    def insert(self, values: dict[str, Any]) -> None:
        # A Core insert: the unit of work's bookkeeping is pure overhead for one new row.
        self.session.execute(_INSERT_RECORD, values)


# Statements on the hot create path are built once with bind parameters, so SQLAlchemy
# compiles and caches them once instead of coercing literal values on every request.
_ISSUANCE = cast(Table, TsaIssuance.__table__)
_INSERT_ISSUANCE = insert(_ISSUANCE).returning(_ISSUANCE.c.serial)
_INSERT_RECORD = insert(cast(Table, Record.__table__))
_USAGE = cast(Table, UsageCounter.__table__)


def _consume_statement(dialect: str) -> Any:
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = upsert(_USAGE).values(
        account_id=bindparam("account_id"), period=bindparam("period"), used=1
    )
    return statement.on_conflict_do_update(
        index_elements=[_USAGE.c.account_id, _USAGE.c.period],
        set_={"used": _USAGE.c.used + 1},
        where=_USAGE.c.used < bindparam("limit"),
    ).returning(_USAGE.c.used)


_CONSUME = {dialect: _consume_statement(dialect) for dialect in ("postgresql", "sqlite")}


class TsaIssuanceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def allocate(self, *, issued_at: datetime, hash_algorithm: str, digest_hex: str) -> int:
        serial = self.session.execute(
            _INSERT_ISSUANCE,
            {"issued_at": issued_at, "hash_algorithm": hash_algorithm, "digest_hex": digest_hex},
        ).scalar_one()
        return int(serial)


class UsageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def consume(self, account_id: str, period: str, limit: int) -> bool:
        """Take one unit of the period's allowance; False when none is left.

        One guarded upsert: atomic, so concurrent writers never overshoot, and it locks
        the account's counter row only from here to commit, which is why callers run it
        last in their transaction."""
        if limit <= 0:
            return False
        statement = _CONSUME[self.session.get_bind().dialect.name]
        row = self.session.execute(
            statement, {"account_id": account_id, "period": period, "limit": limit}
        ).first()
        return row is not None

    def used(self, account_id: str, period: str) -> int:
        row = self.session.get(UsageCounter, (account_id, period))
        return row.used if row else 0

    def release(self, account_id: str, period: str) -> None:
        """Give back one unit :meth:`consume` took for work that then did not happen."""
        self.session.execute(
            update(UsageCounter)
            .where(
                UsageCounter.account_id == account_id,
                UsageCounter.period == period,
                UsageCounter.used > 0,
            )
            .values(used=UsageCounter.used - 1)
        )


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
