"""Engine and session factory for SQLite (embedded) and PostgreSQL (scaled)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from notarium.adapters.datadir import ensure_data_dir, ensure_private_sqlite

SessionFactory = sessionmaker[Session]
READ_ONLY = "notarium_read_only"


@dataclass(frozen=True)
class DatabaseOptions:
    url: str
    data_dir: Path
    """Where an embedded SQLite file lives; created private before SQLite opens it."""
    sqlite_synchronous: str = "FULL"

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


def make_engine(options: DatabaseOptions) -> Engine:
    url = options.url
    if options.is_sqlite:
        ensure_data_dir(options.data_dir)
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            ensure_private_sqlite(Path(database))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _configure_sqlite(engine, options.sqlite_synchronous)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"unknown SQLite synchronous mode {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's implicit BEGIN defers the write lock to the first write, which lets two
        # writers deadlock on upgrade; take the lock at BEGIN instead (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers never upgrade, so they need no write lock and must not queue behind one.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class _GatedSessionMaker(sessionmaker[Session]):
    """Write transactions queue on an in-process lock before asking SQLite for its write
    lock: SQLite's busy handler retries by sleeping, which under load turns queueing into
    long tail latencies, while a lock hands over the moment the previous writer commits."""

    def __init__(self, bind: Engine, gate: threading.RLock) -> None:
        super().__init__(bind, expire_on_commit=False)
        self._gate = gate

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self._gate, super().begin() as session:
            yield session


_GATES: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def make_session_factory(engine: Engine, *, read_only: bool = False) -> SessionFactory:
    """Sessions for writing, or (``read_only``) for transactions that only read."""
    if read_only:
        return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
    if engine.dialect.name == "sqlite":
        return _GatedSessionMaker(engine, _GATES.setdefault(engine, threading.RLock()))
    return sessionmaker(engine, expire_on_commit=False)
