"""The development node's invoices, in a small SQLite file of their own.

The server process issues invoices and ``notarium dev pay`` settles them from another
process, so the state must live on disk where both can reach it; SQLite gives the
atomic check-and-settle two concurrent payers need (``BEGIN IMMEDIATE``) without
adding anything to the service's own schema. It is a single-machine development node:
servers on several hosts would each have their own file, which is why scaled
deployments use LND.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

FILE_NAME: Final = "invoices.sqlite3"
DIRECTORY_MODE: Final = 0o700
FILE_MODE: Final = 0o600
BUSY_TIMEOUT_SECONDS: Final = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invoices (
    payment_hash    TEXT PRIMARY KEY,
    preimage        TEXT NOT NULL,
    payment_request TEXT NOT NULL,
    amount_sats     INTEGER NOT NULL,
    memo            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    settled_at      TEXT,
    settle_index    INTEGER UNIQUE
)
"""
_COLUMNS = (
    "payment_hash, preimage, payment_request, amount_sats, memo, created_at, expires_at, "
    "settled_at, settle_index"
)

SettleOutcome = Literal["settled", "already_paid", "expired", "unknown"]


@dataclass(frozen=True)
class StoredInvoice:
    payment_hash: str
    preimage: bytes
    payment_request: str
    amount_sats: int
    memo: str
    created_at: datetime
    expires_at: datetime
    settled_at: datetime | None
    settle_index: int | None


class DevInvoiceStore:
    def __init__(self, directory: Path) -> None:
        self._directory = Path(directory)
        self._path = self._directory / FILE_NAME
        self._ready = False

    @property
    def path(self) -> Path:
        return self._path

    def add(self, invoice: StoredInvoice) -> None:
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO invoices ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",  # noqa: S608
                (
                    invoice.payment_hash,
                    invoice.preimage.hex(),
                    invoice.payment_request,
                    invoice.amount_sats,
                    invoice.memo,
                    invoice.created_at.isoformat(),
                    invoice.expires_at.isoformat(),
                ),
            )

    def get(self, payment_hash: str) -> StoredInvoice | None:
        with self._connection() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM invoices WHERE payment_hash = ?",  # noqa: S608
                (payment_hash,),
            ).fetchone()
        return None if row is None else _invoice(row)

    def settle(
        self, payment_hash: str, now: datetime
    ) -> tuple[SettleOutcome, StoredInvoice | None]:
        """Settle an open, unexpired invoice; exactly one of several concurrent callers,
        in any process, gets ``settled``."""
        with self._transaction() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM invoices WHERE payment_hash = ?",  # noqa: S608
                (payment_hash,),
            ).fetchone()
            if row is None:
                return "unknown", None
            current = _invoice(row)
            if current.settled_at is not None:
                return "already_paid", current
            if current.expires_at <= now:
                return "expired", current
            (index,) = db.execute(
                "SELECT COALESCE(MAX(settle_index), 0) + 1 FROM invoices"
            ).fetchone()
            db.execute(
                "UPDATE invoices SET settled_at = ?, settle_index = ? WHERE payment_hash = ?",
                (now.isoformat(), index, payment_hash),
            )
        return "settled", replace(current, settled_at=now, settle_index=int(index))

    def last_settle_index(self) -> int:
        with self._connection() as db:
            (index,) = db.execute("SELECT COALESCE(MAX(settle_index), 0) FROM invoices").fetchone()
        return int(index)

    def settled_after(self, settle_index: int) -> list[StoredInvoice]:
        with self._connection() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM invoices WHERE settle_index > ? "  # noqa: S608
                "ORDER BY settle_index",
                (settle_index,),
            ).fetchall()
        return [_invoice(row) for row in rows]

    # -- plumbing -------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        self._prepare()
        db = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as db:
            # Taking the write lock up front makes check-then-settle one atomic step.
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _prepare(self) -> None:
        if self._ready:
            return
        self._directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        # Created with its final mode before SQLite opens it: the file holds preimages,
        # and SQLite gives its WAL files the database file's permissions.
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
        os.close(fd)
        db = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
        finally:
            db.close()
        self._ready = True


def _invoice(row: tuple[object, ...]) -> StoredInvoice:
    (
        payment_hash,
        preimage,
        payment_request,
        amount_sats,
        memo,
        created_at,
        expires_at,
        settled_at,
        settle_index,
    ) = row
    return StoredInvoice(
        payment_hash=str(payment_hash),
        preimage=bytes.fromhex(str(preimage)),
        payment_request=str(payment_request),
        amount_sats=int(str(amount_sats)),
        memo=str(memo),
        created_at=datetime.fromisoformat(str(created_at)),
        expires_at=datetime.fromisoformat(str(expires_at)),
        settled_at=None if settled_at is None else datetime.fromisoformat(str(settled_at)),
        settle_index=None if settle_index is None else int(str(settle_index)),
    )
