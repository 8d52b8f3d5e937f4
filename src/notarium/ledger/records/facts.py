"""A record as the proof format states it: the facts its signed section carries."""

from __future__ import annotations

from notarium.formats.bundle import RecordFacts, format_created_at
from notarium.ledger.records.values import RecordView


def facts_of(view: RecordView) -> RecordFacts:
    return RecordFacts(
        id=view.id,
        certificate_id=view.certificate_id,
        sha256=view.sha256,
        filename=view.filename,
        file_size_bytes=view.file_size_bytes,
        file_type=view.file_type,
        created_at=format_created_at(view.created_at),
    )
