"""Record lifecycle events, written into the caller's transaction so that an event is
never lost between a record's change and its delivery (the outbox pattern)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

CREATED = "certificate.created"
ANCHORING = "certificate.anchoring"
CONFIRMED = "certificate.confirmed"
FAILED = "certificate.failed"
EVENT_TYPES = (CREATED, ANCHORING, CONFIRMED, FAILED)

STATUS_EVENTS = {"anchoring": ANCHORING, "confirmed": CONFIRMED, "failed": FAILED}


class EventSink(Protocol):
    def emit(self, session: Session, event_type: str, record_ids: Sequence[str]) -> None:
        """Record that ``event_type`` happened to these records, in ``session``'s
        transaction."""
        ...


class NullSink:
    def emit(self, session: Session, event_type: str, record_ids: Sequence[str]) -> None:
        return None


class Fanout:
    """Hands each event to every sink in turn, all inside the caller's transaction: the
    webhook outbox and the L402 notices are peers, neither wraps the other."""

    def __init__(self, sinks: Sequence[EventSink]) -> None:
        self.sinks = tuple(sinks)

    def emit(self, session: Session, event_type: str, record_ids: Sequence[str]) -> None:
        for sink in self.sinks:
            sink.emit(session, event_type, record_ids)
