"""When a batch counts as confirmed or failed, from its anchors' states."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notarium.ledger.anchoring.policy import AnchorOutcome, AnchorPolicy, batch_verdict

POLICY = AnchorPolicy(min_calendars=2, retry_base=5, retry_max=60)


def ots(state: str, height: int | None = None) -> AnchorOutcome:
    return AnchorOutcome("ots", state, height)


def btc(state: str, height: int | None = None) -> AnchorOutcome:
    return AnchorOutcome("bitcoin", state, height)


def tsa(state: str) -> AnchorOutcome:
    return AnchorOutcome("rfc3161", state, None)


@pytest.mark.parametrize(
    ("anchors", "verdict"),
    [
        ([ots("waiting"), ots("waiting")], "anchoring"),
        ([ots("complete", 800_000), ots("waiting")], "confirmed"),
        ([ots("failed"), ots("waiting"), ots("waiting")], "anchoring"),
        ([ots("failed"), ots("failed"), ots("waiting")], "failed"),
        ([ots("failed"), ots("submitting")], "failed"),
        ([ots("submitting")], "anchoring"),  # one calendar configured: m is capped at n
        ([ots("failed")], "failed"),
        ([ots("failed"), ots("failed"), btc("waiting")], "anchoring"),
        ([btc("complete", 12)], "confirmed"),
        ([btc("failed"), tsa("complete")], "failed"),
        ([tsa("complete"), tsa("complete")], "confirmed"),
        ([tsa("complete"), tsa("submitting")], "anchoring"),
        ([tsa("complete"), tsa("failed")], "confirmed"),
        ([tsa("failed"), tsa("failed")], "failed"),
        ([ots("waiting"), tsa("complete")], "anchoring"),
    ],
)
def test_verdicts(anchors: list[AnchorOutcome], verdict: str) -> None:
    assert batch_verdict(anchors, POLICY) == verdict


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [POLICY.backoff(n) for n in (1, 2, 3, 4, 5)] == [
        timedelta(seconds=s) for s in (5, 10, 20, 40, 60)
    ]
