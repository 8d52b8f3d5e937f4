"""The one ISO 8601 formatter: every format and route family writes times through it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from notarium.core.timefmt import iso_micros, iso_millis, parse_iso8601

PARIS = timezone(timedelta(hours=1))


def test_millis_are_truncated_in_utc_with_a_z() -> None:
    instant = datetime(2026, 3, 14, 16, 9, 26, 535897, tzinfo=PARIS)
    assert iso_millis(instant) == "2026-03-14T15:09:26.535Z"
    assert iso_millis(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00.000Z"


def test_none_stays_none() -> None:
    assert iso_millis(None) is None


def test_micros_keep_full_precision() -> None:
    instant = datetime(2026, 3, 14, 16, 9, 26, 5, tzinfo=PARIS)
    assert iso_micros(instant) == "2026-03-14T15:09:26.000005Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-14T15:09:26.535Z", datetime(2026, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)),
        ("2026-03-14T16:09:26+01:00", datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)),
        ("2026-03-14T15:09:26", datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)),
    ],
)
def test_parse_gives_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_iso8601(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_parse_round_trips_what_the_formatters_write() -> None:
    instant = datetime(2026, 7, 1, 8, 30, 0, 123456, tzinfo=UTC)
    assert parse_iso8601(iso_micros(instant)) == instant
    assert parse_iso8601(iso_millis(instant)) == instant.replace(microsecond=123000)


def test_parse_refuses_what_is_not_a_date() -> None:
    with pytest.raises(ValueError):
        parse_iso8601("yesterday")
