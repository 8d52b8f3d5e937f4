"""Singleton jobs across any number of workers, on a row lock that PostgreSQL can skip."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from notarium.adapters.store.models import Schedule


def claim_schedule(
    session: Session, job: str, now: datetime, interval: timedelta, *, force: bool = False
) -> bool:
    """True when this transaction may run ``job`` now; it then owns the job until commit
    and has pushed the next run one interval ahead. A worker that finds the row locked by
    another skips instead of waiting."""
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(upsert(Schedule).values(job=job, next_run_at=now).on_conflict_do_nothing())
    row = session.scalar(
        select(Schedule).where(Schedule.job == job).with_for_update(skip_locked=True)
    )
    if row is None or (row.next_run_at > now and not force):
        return False
    row.next_run_at = now + interval
    return True
