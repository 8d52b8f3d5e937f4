"""Plans and what each entitles an account to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from notarium.core.errors import ValidationError


@dataclass(frozen=True)
class Plan:
    name: str
    api_access: bool
    monthly_timestamps: int
    daily_captures: int = 0
    """Web capture certificates per UTC day; 0 means the plan has no capture subscription."""


PlanName = Literal["free", "starter", "pro", "business"]

PLANS: dict[str, Plan] = {
    "free": Plan("free", api_access=False, monthly_timestamps=25),
    # API access for hashes and seals, billed per use: no flat-rate capture subscription.
    "starter": Plan("starter", api_access=True, monthly_timestamps=1_000),
    "pro": Plan("pro", api_access=True, monthly_timestamps=5_000, daily_captures=50),
    "business": Plan("business", api_access=True, monthly_timestamps=100_000, daily_captures=1_000),
}


def plan_named(name: str) -> Plan:
    try:
        return PLANS[name]
    except KeyError:
        raise ValidationError(
            f"unknown plan {name!r}; choose one of {', '.join(PLANS)}", code="INVALID_PLAN"
        ) from None
