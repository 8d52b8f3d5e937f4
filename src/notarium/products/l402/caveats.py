"""First-party caveats of notarium's L402 macaroons, in aperture's ``condition=value``
form, and their evaluation.

A holder may append caveats but never remove one (the HMAC chain would break), so every
condition may appear several times; as in aperture, each repetition must narrow the one
before it, and the last one decides. Caveats with a condition nobody here knows are
skipped, as the L402 specification asks, since a holder may attenuate a macaroon for
other parties.

The caveats minted here:

* ``services=<service>:0`` — which service the token is for (tier 0);
* ``<service>_capabilities=<action>`` — which action of the endpoint it pays for;
* ``<service>_valid_until=<unix seconds>`` — when it expires;
* ``<service>_request_digest=<hex>`` — the SHA-256 of the exact request it pays for
  (action, hash or file digest and file name, notification settings), so one payment
  buys exactly one operation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from notarium.products.l402.errors import InvalidToken, TokenExpired, TokenMismatch

SERVICES = "services"
CAPABILITIES_SUFFIX = "_capabilities"
VALID_UNTIL_SUFFIX = "_valid_until"
REQUEST_DIGEST_SUFFIX = "_request_digest"
BASE_TIER = 0


@dataclass(frozen=True)
class Caveat:
    condition: str
    value: str

    def encode(self) -> str:
        return f"{self.condition}={self.value}"


def decode_caveat(raw: str) -> Caveat | None:
    """``None`` for a caveat that is not ``condition=value`` (skipped, like any unknown)."""
    condition, sep, value = raw.partition("=")
    if not sep or not condition:
        return None
    return Caveat(condition.strip(), value.strip())


@dataclass(frozen=True)
class Grant:
    """What a token is minted for."""

    service: str
    action: str
    valid_until: int
    request_digest: str

    def caveats(self) -> list[Caveat]:
        return [
            Caveat(SERVICES, f"{self.service}:{BASE_TIER}"),
            Caveat(self.service + CAPABILITIES_SUFFIX, self.action),
            Caveat(self.service + VALID_UNTIL_SUFFIX, str(self.valid_until)),
            Caveat(self.service + REQUEST_DIGEST_SUFFIX, self.request_digest),
        ]


@dataclass(frozen=True)
class Satisfier:
    condition: str
    narrows: Callable[[str, str], bool]
    """Whether ``current`` grants no more than ``previous``."""
    holds: Callable[[str], None]
    """Raises when the decisive (last) value does not allow the request."""


def _services(value: str) -> set[str]:
    names = set()
    for part in value.split(","):
        name, sep, tier = part.strip().partition(":")
        if not name or not sep or not tier.isdigit():
            raise InvalidToken(f"The services caveat {value!r} is not `name:tier,...`.")
        names.add(name)
    return names


def _timestamp(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidToken(f"The expiry caveat {value!r} is not a Unix time.") from None


def satisfiers(service: str, action: str, digest: str, now: datetime) -> list[Satisfier]:
    def service_holds(value: str) -> None:
        if service not in _services(value):
            raise InvalidToken(f"This token is not valid for the {service} service.")

    def capability_holds(value: str) -> None:
        if action not in {c.strip() for c in value.split(",")}:
            raise TokenMismatch(f"This token does not pay for `{action}`.")

    def expiry_holds(value: str) -> None:
        if now.timestamp() >= _timestamp(value):
            raise TokenExpired("This L402 token has expired; request a new invoice.")

    def digest_holds(value: str) -> None:
        if value != digest:
            raise TokenMismatch(
                "This token was bought for a different request; one payment buys one "
                "operation, exactly as first requested."
            )

    return [
        Satisfier(SERVICES, lambda p, c: _services(c) <= _services(p), service_holds),
        Satisfier(
            service + CAPABILITIES_SUFFIX,
            lambda p, c: set(c.split(",")) <= set(p.split(",")),
            capability_holds,
        ),
        Satisfier(
            service + VALID_UNTIL_SUFFIX,
            lambda p, c: _timestamp(c) <= _timestamp(p),
            expiry_holds,
        ),
        Satisfier(service + REQUEST_DIGEST_SUFFIX, lambda p, c: p == c, digest_holds),
    ]


def check_caveats(caveats: Sequence[Caveat], rules: Sequence[Satisfier]) -> None:
    """Every rule's condition must be present (a macaroon minted here carries them all),
    each repetition must narrow the previous, and the last must hold."""
    for rule in rules:
        values = [c.value for c in caveats if c.condition == rule.condition]
        if not values:
            raise InvalidToken(f"The token lacks its `{rule.condition}` caveat.")
        for previous, current in itertools.pairwise(values):
            if not rule.narrows(previous, current):
                raise InvalidToken(
                    f"A repeated `{rule.condition}` caveat widens the one before it."
                )
        rule.holds(values[-1])
