"""Every sink hears every event, in the caller's transaction and in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy.orm import Session

from notarium.ledger.events import CONFIRMED, CREATED, EventSink, Fanout


class Recorder:
    def __init__(self, name: str, heard: list[tuple[str, Any, str, tuple[str, ...]]]) -> None:
        self.name = name
        self.heard = heard

    def emit(self, session: Session, event_type: str, record_ids: Sequence[str]) -> None:
        self.heard.append((self.name, session, event_type, tuple(record_ids)))


def test_each_sink_receives_each_event_in_order() -> None:
    heard: list[tuple[str, Any, str, tuple[str, ...]]] = []
    session = cast(Session, object())
    sinks: list[EventSink] = [Recorder("outbox", heard), Recorder("l402", heard)]
    fanout = Fanout(sinks)
    fanout.emit(session, CREATED, ["a", "b"])
    fanout.emit(session, CONFIRMED, ["c"])
    assert heard == [
        ("outbox", session, CREATED, ("a", "b")),
        ("l402", session, CREATED, ("a", "b")),
        ("outbox", session, CONFIRMED, ("c",)),
        ("l402", session, CONFIRMED, ("c",)),
    ]


def test_no_sinks_is_a_null_sink() -> None:
    Fanout([]).emit(cast(Session, object()), CREATED, ["a"])
