"""Which address a request comes from, for per-IP limits: the socket peer, unless the
peer is a proxy the operator trusts, in which case the address that proxy saw."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """``NOTARIUM_TRUSTED_PROXIES`` entries (addresses or CIDR networks) as networks;
    raises ValueError on an entry that is neither."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket counts as that IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Sequence[Network]
) -> bool:
    return any(address.version == net.version and address in net for net in nets)


def client_address(peer: str, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client's address for rate limiting.

    ``X-Forwarded-For`` is read only when the socket peer is a trusted proxy; each
    proxy appends the address it saw, so the list is walked from the right and the first
    address that is not itself a trusted proxy is the client. Entries further left were
    written by the client and are never believed. Without trusted proxies (the default)
    the peer is the client whatever headers it sends.
    """
    peer_address = _address(peer)
    if peer_address is None or not _trusted(peer_address, trusted):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    nearest = str(peer_address)
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # A trusted proxy always appends a well-formed address, so this part of the
            # header was not written by one: the nearest trusted hop is all we know.
            return nearest
        if not _trusted(address, trusted):
            return str(address)
        nearest = str(address)
    return nearest
