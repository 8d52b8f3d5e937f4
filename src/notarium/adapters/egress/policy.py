"""Which destinations a fetch of a user-supplied URL may reach.

A URL is judged by every address its host resolves to, not by its spelling: names that
resolve to the operator's own network, and literals in any of their notations, meet the
same rules. What is refused by default is everything that is not ordinary public
unicast: private, loopback, link-local, unspecified, multicast, reserved and other
special-purpose ranges, shared address space (CGNAT, 100.64.0.0/10), site-local IPv6,
and IPv6 forms that carry one of those IPv4 addresses (IPv4-mapped, 6to4, Teredo,
NAT64). An operator opens exceptions with ``NOTARIUM_EGRESS_ALLOWLIST``: IP addresses,
CIDR networks, or host names, comma-separated.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from notarium.core.errors import ConfigurationError, NotariumError, ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[IPAddress]]
"""``(host, port) -> addresses``, in the order connections should try them."""

ALLOWLIST_ENV = "NOTARIUM_EGRESS_ALLOWLIST"
SCHEMES = ("http", "https")

_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_HOST_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")


class EgressRefused(ValidationError):
    """The URL, or an address it resolves to, may not be fetched under the policy."""

    code = "EGRESS_REFUSED"


class EgressLookupError(NotariumError):
    """The URL's host did not resolve; unlike a refusal, this may pass with time."""

    code = "EGRESS_LOOKUP_FAILED"


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses ``socket.getaddrinfo`` gives for a TCP connection, deduplicated."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        # A zone index ("%eth0") only matters for link-local addresses, refused unless
        # allowlisted, and would keep the address out of every network comparison.
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def normalise(address: IPAddress) -> IPAddress:
    """IPv4-mapped IPv6 addresses are the IPv4 address they map; a connection to one
    reaches that IPv4 host, so it is judged, and connected to, as such."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not ordinary public unicast, or ``None`` if it is."""
    address = normalise(address)
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_WELL_KNOWN:
            # A NAT64 gateway forwards to the embedded IPv4 address, public or not.
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            reason = refusal_reason(embedded)
            return None if reason is None else f"it translates to {embedded}, {reason}"
        tunnelled = [address.sixtofour, address.teredo[1] if address.teredo else None]
        for embedded_v4 in tunnelled:
            if embedded_v4 is not None and (reason := refusal_reason(embedded_v4)):
                return f"it tunnels to {embedded_v4}, {reason}"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "in the shared address space 100.64.0.0/10 (carrier-grade NAT)"
    if address.is_private:
        return "a private or special-purpose address"
    if isinstance(address, ipaddress.IPv6Address) and (
        address.is_site_local or address in _NAT64_LOCAL_USE
    ):
        return "a site-local address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a globally routable address"
    return None


@dataclass(frozen=True)
class Destination:
    """A URL that passed the policy, with the addresses a connection may use."""

    url: httpx.URL
    host: str
    """ASCII (IDNA) host name or IP literal, as it goes into ``Host`` and SNI."""
    port: int
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True)
class EgressPolicy:
    """The rules for outgoing fetches of URLs that users supply.

    ``allowlist`` entries are IP addresses, CIDR networks (both permit the addresses they
    cover) or host names (which permit that exact host whatever it resolves to).
    """

    allowlist: Sequence[str] = ()
    resolver: Resolver = field(default=system_resolver, compare=False, repr=False)
    networks: tuple[IPNetwork, ...] = field(init=False, repr=False)
    hosts: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        entries = tuple(self.allowlist)
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in entries:
            entry = raw.strip()
            literal = entry[1:-1] if entry.startswith("[") and entry.endswith("]") else entry
            try:
                network = ipaddress.ip_network(literal, strict=False)
            except ValueError:
                hosts.add(_allowlisted_host(entry))
                continue
            if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
                mapped = network.network_address.ipv4_mapped
                if mapped is not None:
                    # Addresses are judged in IPv4 form (see ``normalise``).
                    network = ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}")
            networks.append(network)
        object.__setattr__(self, "allowlist", entries)
        object.__setattr__(self, "networks", tuple(networks))
        object.__setattr__(self, "hosts", frozenset(hosts))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, resolver: Resolver = system_resolver
    ) -> EgressPolicy:
        """The policy of ``NOTARIUM_EGRESS_ALLOWLIST`` (comma-separated entries)."""
        value = (os.environ if environ is None else environ).get(ALLOWLIST_ENV, "")
        return cls([part for part in value.split(",") if part.strip()], resolver=resolver)

    def is_allowed(self, address: IPAddress) -> bool:
        """Whether a connection to ``address`` is permitted, host names aside."""
        address = normalise(address)
        if any(address in network for network in self.networks):
            return True
        return refusal_reason(address) is None

    def check_url(self, url: str | httpx.URL, *, https_only: bool = False) -> list[IPAddress]:
        """The addresses ``url`` may be fetched from, every one of them permitted.

        Raises :class:`EgressRefused` with the reason, or :class:`EgressLookupError` when
        the host does not resolve.
        """
        return list(self.vet(url, https_only=https_only).addresses)

    def vet(self, url: str | httpx.URL, *, https_only: bool = False) -> Destination:
        """Like :meth:`check_url`, with what a connection needs besides the addresses."""
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
            # Decoding the host (IDNA) fails late and lazily on a malformed A-label.
            parsed.host  # noqa: B018
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise EgressRefused(f"{str(url)[:200]!r} is not a valid URL: {exc}") from exc
        shown = _redacted(parsed)
        if parsed.scheme not in SCHEMES:
            raise EgressRefused(
                f"{shown} uses the scheme {parsed.scheme!r}; only http and https are fetched"
            )
        if https_only and parsed.scheme != "https":
            raise EgressRefused(f"{shown} is not https, which is required here")
        if parsed.userinfo:
            raise EgressRefused(f"{shown} carries credentials, which URLs here may not")
        try:
            host = parsed.raw_host.decode("ascii").lower()
        except UnicodeDecodeError as exc:
            raise EgressRefused(f"{shown} has a host that is not valid ASCII") from exc
        if not host:
            raise EgressRefused(f"{shown} has no host")
        if parsed.port == 0:
            raise EgressRefused(f"{shown} names port 0, which cannot be connected to")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)

        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [normalise(literal)]
        elif not set(host) <= _HOST_CHARACTERS or not _fits_dns(host):
            # Not a name DNS could hold; no reason to hand it to a resolver.
            raise EgressRefused(f"{shown} has a host that is not a valid host name")
        elif _numeric_label(host.rstrip(".").rsplit(".", 1)[-1]):
            # Browsers (the WHATWG URL standard) and the C resolver read `0x7f.1`,
            # `0177.0.0.1` or `2130706433` as an IPv4 address; one spelling per address
            # keeps every reader of the URL judging the same host.
            raise EgressRefused(
                f"{shown} spells an IPv4 address in a non-standard notation; "
                "write it as four decimal numbers (a.b.c.d)"
            )
        else:
            try:
                resolved = self.resolver(host, port)
            except (OSError, UnicodeError) as exc:
                raise EgressLookupError(f"the host {host} did not resolve: {exc}") from exc
            addresses = list(dict.fromkeys(normalise(address) for address in resolved))
            if not addresses:
                raise EgressLookupError(f"the host {host} resolved to no address")
            if host.rstrip(".") in self.hosts:
                return Destination(parsed, host, port, tuple(addresses))

        for address in addresses:
            if not self.is_allowed(address):
                named = "" if literal is not None else f"{host} resolves to {address}, "
                raise EgressRefused(
                    f"{shown} is refused: {named}{refusal_reason(address)}, and "
                    f"{ALLOWLIST_ENV} does not permit it"
                )
        return Destination(parsed, host, port, tuple(addresses))


def _fits_dns(host: str) -> bool:
    """At most 253 characters, labels of 1 to 63 (a root dot allowed)."""
    name = host[:-1] if host.endswith(".") else host
    return 0 < len(name) <= 253 and all(0 < len(label) <= 63 for label in name.split("."))


def _numeric_label(label: str) -> bool:
    """A label the WHATWG URL parser reads as a number, making the host an IPv4 one."""
    if label[:2].lower() == "0x":
        return all(c in "0123456789abcdefABCDEF" for c in label[2:])
    return label.isascii() and label.isdigit()


def _allowlisted_host(entry: str) -> str:
    host = entry.lower().rstrip(".")
    if not host or not set(host) <= _HOST_CHARACTERS or ".." in host:
        raise ConfigurationError(
            f"{ALLOWLIST_ENV} entry {entry!r} is neither an IP address, a CIDR network nor "
            "a host name (give hosts without scheme, port or path)"
        )
    return host


def _redacted(url: httpx.URL) -> str:
    # Messages end up in logs and API answers; credentials in a URL must not.
    if url.userinfo:
        url = url.copy_with(username=None, password=None)
    text = str(url)
    return text if len(text) <= 200 else text[:200] + "…"
