"""One way to obtain a time-stamp token, whichever authority issues it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TsaOptions:
    """How the built-in authority fills in its tokens."""

    policy_oid: str
    accuracy_ms: int
