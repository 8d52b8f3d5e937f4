"""Which URLs a capture may start from, judged before any browser sees them.

An absolute http(s) URL whose host passes the egress policy; plain http only where the
operator's allowlist admits the host (by name, or by every address it resolves to).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from notarium.adapters.egress.policy import (
    Destination,
    EgressLookupError,
    EgressPolicy,
    EgressRefused,
)
from notarium.products.web_capture.browser.errors import CaptureFailed, InvalidCaptureUrl

MAX_URL_LENGTH = 8192


def admit_url(policy: EgressPolicy, url: str) -> Destination:
    """The vetted destination of ``url``; blocks while the host resolves."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise InvalidCaptureUrl(f"a URL of 1 to {MAX_URL_LENGTH} characters is required")
    if url != url.strip() or any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise InvalidCaptureUrl("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise InvalidCaptureUrl(f"{url[:200]!r} is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidCaptureUrl(f"{url[:200]!r} is not an absolute https:// URL")
    # An IP literal costs no lookup, so the policy judges it first (its refusal says
    # more than "not https"); a name is only resolved if plain http could pass at all.
    literal = _literal(parts.hostname)
    if parts.scheme == "http" and not literal and not _may_be_plain(policy, parts.hostname):
        raise InvalidCaptureUrl(f"{url[:200]!r} is not https://; only https URLs are captured")
    try:
        destination = policy.vet(url)
    except EgressLookupError as exc:
        raise CaptureFailed(exc.message) from exc
    except EgressRefused as exc:
        raise InvalidCaptureUrl(exc.message) from exc
    if parts.scheme == "http" and not _admitted(policy, destination):
        raise InvalidCaptureUrl(f"{url[:200]!r} is not https://; only https URLs are captured")
    return destination


def _may_be_plain(policy: EgressPolicy, host: str) -> bool:
    """Whether the allowlist could admit plain http for the name ``host`` (before it is
    resolved): it is listed, or it might resolve into a listed network."""
    return host.lower().rstrip(".") in policy.hosts or bool(policy.networks)


def _admitted(policy: EgressPolicy, destination: Destination) -> bool:
    if destination.host.rstrip(".") in policy.hosts:
        return True
    return all(
        any(address in network for network in policy.networks) for address in destination.addresses
    )


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
