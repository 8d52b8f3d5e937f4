"""Which address per-IP limits count: X-Forwarded-For is believed only from trusted
proxies, and then only its right-most untrusted entry."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from notarium.adapters.ratelimit.client import Network, client_address, trusted_networks
from notarium.app.settings import Settings

PROXIES = trusted_networks(("10.0.0.0/8", "192.0.2.7", "2001:db8::/32"))


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "expected"),
    [
        # No trusted proxies (the default): the header changes nothing.
        ("198.51.100.4", ["203.0.113.9"], (), "198.51.100.4"),
        ("127.0.0.1", ["203.0.113.9, 10.1.1.1"], (), "127.0.0.1"),
        # An untrusted peer's header is ignored even when proxies are configured.
        ("198.51.100.4", ["203.0.113.9"], PROXIES, "198.51.100.4"),
        # One trusted proxy: the address it appended.
        ("10.0.0.2", ["203.0.113.9"], PROXIES, "203.0.113.9"),
        # The client forged entries to the left; the right-most untrusted one counts.
        ("10.0.0.2", ["1.2.3.4, 5.6.7.8, 203.0.113.9"], PROXIES, "203.0.113.9"),
        # A chain of trusted proxies is walked through, across repeated headers too.
        ("10.0.0.2", ["6.6.6.6, 203.0.113.9", "192.0.2.7, 10.9.9.9"], PROXIES, "203.0.113.9"),
        ("2001:db8::1", ["2001:db8::2, 2a00:1450::5"], PROXIES, "2a00:1450::5"),
        # An IPv4 client seen as IPv4-mapped IPv6 is the IPv4 address.
        ("10.0.0.2", ["::ffff:203.0.113.9"], PROXIES, "203.0.113.9"),
        ("::ffff:10.0.0.2", ["203.0.113.9"], PROXIES, "203.0.113.9"),
        # A trusted proxy sent no header, or only trusted hops: the nearest hop.
        ("10.0.0.2", [], PROXIES, "10.0.0.2"),
        ("10.0.0.2", ["10.3.3.3"], PROXIES, "10.3.3.3"),
        # Garbage where a trusted proxy would have written an address stops the walk.
        ("10.0.0.2", ["203.0.113.9, not-an-ip"], PROXIES, "10.0.0.2"),
        ("10.0.0.2", ["unknown, 10.3.3.3"], PROXIES, "10.3.3.3"),
        ("10.0.0.2", [" , ,203.0.113.9 "], PROXIES, "203.0.113.9"),
    ],
)
def test_client_address(
    peer: str, headers: list[str], trusted: tuple[Network, ...], expected: str
) -> None:
    assert client_address(peer, headers, trusted) == expected


def test_trusted_proxies_setting_takes_addresses_and_networks() -> None:
    settings = Settings(trusted_proxies="10.0.0.0/8, 192.0.2.7,::1")  # type: ignore[arg-type]
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.0.2.7", "::1"]
    assert Settings().trusted_proxies == []
    with pytest.raises(ValidationError, match="not an IP address"):
        Settings(trusted_proxies="proxy.internal")  # type: ignore[arg-type]
