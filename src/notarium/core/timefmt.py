"""The one way notarium writes and reads instants on the wire and in its formats.

Records, proofs, manifests, webhook payloads and every route family write times as
ISO 8601 in UTC with milliseconds and ``Z`` (``2026-04-13T18:42:11.000Z``); cursors
need the microseconds so that records in the same millisecond are not skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def iso_millis(instant: datetime) -> str: ...
@overload
def iso_millis(instant: None) -> None: ...
@overload
def iso_millis(instant: datetime | None) -> str | None: ...
def iso_millis(instant: datetime | None) -> str | None:
    """``2026-04-13T18:42:11.000Z``; None stays None (an optional field on the wire)."""
    if instant is None:
        return None
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_micros(instant: datetime) -> str:
    """``2026-04-13T18:42:11.123456Z``: full precision, for cursors and WARC dates."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso8601(value: str) -> datetime:
    """An ISO 8601 instant as an aware UTC datetime; one without an offset is UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
