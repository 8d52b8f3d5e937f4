"""Outgoing fetches of URLs that users supply (webhook endpoints and the like), kept
away from the operator's own network unless the operator allows it."""

from notarium.adapters.egress.policy import (
    ALLOWLIST_ENV,
    Destination,
    EgressLookupError,
    EgressPolicy,
    EgressRefused,
    IPAddress,
    refusal_reason,
)
from notarium.adapters.egress.transport import GuardedTransport, guarded_client

__all__ = [
    "ALLOWLIST_ENV",
    "Destination",
    "EgressLookupError",
    "EgressPolicy",
    "EgressRefused",
    "GuardedTransport",
    "IPAddress",
    "guarded_client",
    "refusal_reason",
]
