"""Plans and what each entitles an account to."""

from __future__ import annotations

from dataclasses import dataclass

from notarium.errors import ValidationError


@dataclass(frozen=True)
class Plan:
    name: str
    api_access: bool
    monthly_timestamps: int


PLANS: dict[str, Plan] = {
    "free": Plan("free", api_access=False, monthly_timestamps=25),
    "pro": Plan("pro", api_access=True, monthly_timestamps=5_000),
    "business": Plan("business", api_access=True, monthly_timestamps=100_000),
}


def plan_named(name: str) -> Plan:
    try:
        return PLANS[name]
    except KeyError:
        raise ValidationError(
            f"unknown plan {name!r}; choose one of {', '.join(PLANS)}", code="INVALID_PLAN"
        ) from None
