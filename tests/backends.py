"""Which databases the suite runs on: SQLite always, PostgreSQL and Redis when reachable
(CI starts both, so the scaled mode is exercised on every change)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

PG_URL = os.environ.get("NOTARIUM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("NOTARIUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_available() -> bool:
    if os.environ.get("NOTARIUM_TEST_SKIP_PG") == "1":
        return False
    if not _reachable("127.0.0.1", 5432):
        return False
    try:
        import psycopg

        with psycopg.connect(_libpq(PG_URL), connect_timeout=2):
            return True
    except Exception:
        return False


def redis_available() -> bool:
    return _reachable("127.0.0.1", 6379)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A private schema for one test, selected through the connection's search_path, so
    tests are isolated without the cost of a database each."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_libpq(PG_URL), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(_libpq(PG_URL), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')
