"""How anchoring behaves: intervals, retries, and what counts as confirmed or failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

BITCOIN_BACKED = frozenset({"ots", "bitcoin"})


@dataclass(frozen=True)
class AnchorPolicy:
    batch_interval: float = 60.0
    upgrade_interval: float = 600.0
    retry_limit: int = 12
    retry_base: float = 5.0
    retry_max: float = 3600.0
    lease_seconds: float = 120.0
    min_calendars: int = 2
    max_batch_size: int = 100_000
    per_record_kinds: frozenset[str] = frozenset()
    """Anchor kinds that commit to each record's hash instead of the batch root."""

    def backoff(self, attempts: int) -> timedelta:
        """Exponential back-off after the ``attempts``-th consecutive failure."""
        seconds = min(self.retry_base * (2 ** max(0, attempts - 1)), self.retry_max)
        return timedelta(seconds=seconds)


@dataclass(frozen=True)
class AnchorOutcome:
    kind: str
    state: str
    bitcoin_height: int | None


def batch_verdict(anchors: Sequence[AnchorOutcome], policy: AnchorPolicy) -> str:
    """``confirmed``, ``failed`` or ``anchoring`` for a batch, from its anchors' states.

    - A Bitcoin attestation from any anchor confirms the batch.
    - With Bitcoin-backed anchors configured, the batch fails only once none of them can
      still get there; OpenTimestamps stays viable only while at least m calendars (the
      m of m-of-n) are still in the running.
    - With only time-stamp authorities configured, the batch is confirmed once none is
      still working and at least one token was obtained, and fails if all failed.
    """
    if any(
        a.kind in BITCOIN_BACKED and a.state == "complete" and a.bitcoin_height is not None
        for a in anchors
    ):
        return "confirmed"
    backed = [a for a in anchors if a.kind in BITCOIN_BACKED]
    if backed:
        ots = [a for a in backed if a.kind == "ots"]
        ots_alive = sum(1 for a in ots if a.state != "failed")
        ots_viable = bool(ots) and ots_alive >= min(policy.min_calendars, len(ots))
        bitcoin_viable = any(a.kind == "bitcoin" and a.state != "failed" for a in backed)
        return "anchoring" if ots_viable or bitcoin_viable else "failed"
    if any(a.state not in ("complete", "failed") for a in anchors):
        return "anchoring"
    return "confirmed" if any(a.state == "complete" for a in anchors) else "failed"
