"""Scopes an API key can carry."""

from __future__ import annotations

from notarium.core.errors import ValidationError

TIMESTAMPS_READ = "timestamps:read"
TIMESTAMPS_WRITE = "timestamps:write"
CERTIFICATES_READ = "certificates:read"
CERTIFICATES_WRITE = "certificates:write"
WEBHOOKS_READ = "webhooks:read"
WEBHOOKS_WRITE = "webhooks:write"
SEAL = "seal"
ADMIN = "admin"

ALL_SCOPES: tuple[str, ...] = (
    TIMESTAMPS_READ,
    TIMESTAMPS_WRITE,
    CERTIFICATES_READ,
    CERTIFICATES_WRITE,
    WEBHOOKS_READ,
    WEBHOOKS_WRITE,
    SEAL,
    ADMIN,
)

# ``admin`` manages every account, so it is never granted by default.
DEFAULT_SCOPES: tuple[str, ...] = tuple(s for s in ALL_SCOPES if s != ADMIN)


def validate_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ValidationError(
            f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(ALL_SCOPES)}",
            code="INVALID_SCOPE",
        )
    return sorted(set(scopes))
