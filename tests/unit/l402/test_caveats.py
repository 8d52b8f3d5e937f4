"""Caveat evaluation as aperture does it: repetitions may only narrow, the last one
decides, unknown conditions are skipped, and notarium's own are required."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notarium.products.l402.caveats import Caveat, Grant, check_caveats, decode_caveat, satisfiers
from notarium.products.l402.errors import InvalidToken, TokenExpired, TokenMismatch

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DIGEST = "ab" * 32
GRANT = Grant("notarium", "l402_timestamp", int(NOW.timestamp()) + 600, DIGEST)


def check(
    caveats: list[Caveat],
    *,
    action: str = "l402_timestamp",
    digest: str = DIGEST,
    now: datetime = NOW,
) -> None:
    check_caveats(caveats, satisfiers("notarium", action, digest, now))


def test_a_fresh_grant_holds() -> None:
    check(GRANT.caveats())


def test_decode() -> None:
    assert decode_caveat("a=b=c") == Caveat("a", "b=c")
    assert decode_caveat("services = x:0") == Caveat("services", "x:0")
    assert decode_caveat("no-equals") is None and decode_caveat("=v") is None


def test_unknown_caveats_are_skipped() -> None:
    check([*GRANT.caveats(), Caveat("loop_out_monthly_volume_sats", "1"), Caveat("ip", "x")])


def test_expiry() -> None:
    with pytest.raises(TokenExpired):
        check(GRANT.caveats(), now=datetime.fromtimestamp(GRANT.valid_until, UTC))


def test_another_request_or_action_or_service_is_refused() -> None:
    with pytest.raises(TokenMismatch):
        check(GRANT.caveats(), digest="cd" * 32)
    with pytest.raises(TokenMismatch):
        check(GRANT.caveats(), action="l402_timestamp_update")
    other = Grant("elsewhere", "l402_timestamp", GRANT.valid_until, DIGEST)
    with pytest.raises(InvalidToken):
        check([*other.caveats()[:1], *GRANT.caveats()[1:]])


def test_repetitions_may_narrow() -> None:
    earlier = Caveat("notarium_valid_until", str(GRANT.valid_until - 60))
    check([*GRANT.caveats(), earlier])
    # The narrower expiry decides, though the minted one is still in the future.
    with pytest.raises(TokenExpired):
        check([*GRANT.caveats(), earlier], now=datetime.fromtimestamp(int(earlier.value), UTC))


@pytest.mark.parametrize(
    "widening",
    [
        Caveat("notarium_valid_until", "9999999999"),
        Caveat("services", "notarium:0,other:0"),
        Caveat("notarium_capabilities", "l402_timestamp,l402_timestamp_update"),
        Caveat("notarium_request_digest", "cd" * 32),
    ],
)
def test_repetitions_may_not_widen(widening: Caveat) -> None:
    with pytest.raises(InvalidToken):
        check([*GRANT.caveats(), widening])


@pytest.mark.parametrize("missing", range(4))
def test_each_minted_caveat_is_required(missing: int) -> None:
    caveats = GRANT.caveats()
    del caveats[missing]
    with pytest.raises(InvalidToken, match="lacks"):
        check(caveats)


@pytest.mark.parametrize(
    "bad", [Caveat("services", "notarium"), Caveat("notarium_valid_until", "soon")]
)
def test_malformed_values_are_refused(bad: Caveat) -> None:
    caveats = [c for c in GRANT.caveats() if c.condition != bad.condition] + [bad]
    with pytest.raises(InvalidToken):
        check(caveats)
