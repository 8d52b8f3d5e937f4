"""The egress policy on its own: which URLs and addresses pass, judged without connecting
anywhere (the resolver is a stub unless a test says otherwise)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

import pytest

from notarium.adapters.egress import EgressLookupError, EgressPolicy, EgressRefused, IPAddress
from notarium.core.errors import ConfigurationError, ValidationError


def no_dns(host: str, port: int) -> list[IPAddress]:
    raise AssertionError(f"{host}:{port} was looked up; literals must be judged as written")


def stub_dns(answers: dict[str, Sequence[str]]) -> tuple[list[str], object]:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[IPAddress]:
        asked.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(address) for address in answers[host]]

    return asked, resolve


def ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://127.0.0.2:8080/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://100.64.0.1/", "100.64.0.0/10"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "private or special-purpose"),
        ("http://255.255.255.255/", "private or special-purpose"),
        ("http://198.18.0.1/", "private or special-purpose"),
        ("http://[::1]/", "loopback"),
        ("http://[::]/", "unspecified"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "private"),
        ("http://[fec0::1]/", "site-local"),
        ("http://[ff02::1]/", "multicast"),
        ("http://[::ffff:127.0.0.2]/", "loopback"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[2002:a00:1::1]/", "tunnels to 10.0.0.1"),
        ("http://[64:ff9b::a9fe:a9fe]/", "translates to 169.254.169.254"),
        ("http://[64:ff9b:1::1]/", "site-local"),
    ],
)
def test_special_addresses_are_refused_without_connecting(url: str, reason: str) -> None:
    policy = EgressPolicy([], resolver=no_dns)
    with pytest.raises(EgressRefused, match=reason) as caught:
        policy.check_url(url)
    assert "NOTARIUM_EGRESS_ALLOWLIST" in caught.value.message
    assert isinstance(caught.value, ValidationError)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://8.8.8.8/hook", "8.8.8.8"),
        ("http://[2606:4700::1111]:8443/", "2606:4700::1111"),
        ("http://[::ffff:8.8.4.4]/", "8.8.4.4"),
        ("https://[64:ff9b::808:808]/", "64:ff9b::808:808"),
    ],
)
def test_public_literals_pass_without_lookup(url: str, address: str) -> None:
    assert EgressPolicy([], resolver=no_dns).check_url(url) == [ip(address)]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://8.8.8.8/",
        "gopher://8.8.8.8:70/_",
        "ws://8.8.8.8/",
        "javascript:alert(1)",
        "data:text/plain,hello",
        "//8.8.8.8/",
    ],
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(EgressRefused, match="only http and https"):
        EgressPolicy([], resolver=no_dns).check_url(url)


def test_credentials_in_urls_are_refused_and_not_echoed() -> None:
    with pytest.raises(EgressRefused, match="credentials") as caught:
        EgressPolicy([], resolver=no_dns).check_url("https://admin:hunter2@8.8.8.8/")
    assert "hunter2" not in caught.value.message


def test_https_only_refuses_http() -> None:
    policy = EgressPolicy([], resolver=no_dns)
    with pytest.raises(EgressRefused, match="not https"):
        policy.check_url("http://8.8.8.8/", https_only=True)
    assert policy.check_url("https://8.8.8.8/", https_only=True) == [ip("8.8.8.8")]


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "http://",
        "http://[::1/",
        42,
        "http://exa mple.com/",
        "http://a%00b/",
        "http://8.8.8.8:0/",
    ],
)
def test_unparseable_urls_are_refused(url: object) -> None:
    with pytest.raises(EgressRefused):
        EgressPolicy([], resolver=no_dns).check_url(url)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http://0x7f.1/",
        "http://0x7F000001/",
        "http://2130706433/",
        "http://127.1/",
        "http://0/",
        "http://8.8.2056/",
        "http://example.0x10/",
    ],
)
def test_ipv4_in_legacy_notations_is_refused_without_lookup(url: str) -> None:
    # Browsers and the C resolver read these as IPv4 addresses; a resolver stub could
    # read them otherwise, so they are refused as spelled, public or not.
    with pytest.raises(EgressRefused, match="non-standard notation"):
        EgressPolicy(["127.0.0.0/8", "8.8.0.0/16"], resolver=no_dns).check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://" + "a" * 64 + ".example/",
        "http://" + ("a" * 60 + ".") * 5 + "example/",
        "http://a..example/",
        "http://8.8.8.010/",
        "http://xn--/",
        "http://xn--a.example/",
    ],
)
def test_hosts_dns_cannot_hold_are_refused_without_lookup(url: str) -> None:
    with pytest.raises(EgressRefused):
        EgressPolicy([], resolver=no_dns).check_url(url)


def test_long_names_and_digit_labels_that_are_not_last_still_resolve() -> None:
    name = "a" * 63 + ".1.example"
    asked, resolve = stub_dns({name: ["8.8.8.8"], "example.": ["8.8.4.4"]})
    policy = EgressPolicy([], resolver=resolve)  # type: ignore[arg-type]
    assert policy.check_url(f"http://{name}/") == [ip("8.8.8.8")]
    assert policy.check_url("http://example./") == [ip("8.8.4.4")]
    assert asked == [name, "example."]


# -- the allowlist ------------------------------------------------------------------------


def test_allowlisted_address_passes_and_its_neighbour_does_not() -> None:
    policy = EgressPolicy(["127.0.0.1"], resolver=no_dns)
    assert policy.check_url("http://127.0.0.1:8000/") == [ip("127.0.0.1")]
    with pytest.raises(EgressRefused, match=r"127\.0\.0\.2.*loopback"):
        policy.check_url("http://127.0.0.2:8000/")


def test_allowlisted_network() -> None:
    policy = EgressPolicy(["127.0.0.0/31", " 10.20.0.0/16 "], resolver=no_dns)
    assert policy.check_url("http://127.0.0.1/") == [ip("127.0.0.1")]
    assert policy.check_url("http://10.20.30.40/") == [ip("10.20.30.40")]
    with pytest.raises(EgressRefused):
        policy.check_url("http://127.0.0.2/")
    with pytest.raises(EgressRefused):
        policy.check_url("http://10.21.0.1/")


def test_mapped_forms_meet_the_same_allowlist() -> None:
    by_v4 = EgressPolicy(["127.0.0.1"], resolver=no_dns)
    assert by_v4.check_url("http://[::ffff:127.0.0.1]/") == [ip("127.0.0.1")]
    by_mapped = EgressPolicy(["::ffff:127.0.0.0/104"], resolver=no_dns)
    assert by_mapped.check_url("http://127.0.0.9/") == [ip("127.0.0.9")]
    assert EgressPolicy(["[::1]"], resolver=no_dns).check_url("http://[::1]/") == [ip("::1")]


def test_names_are_judged_by_every_address_they_resolve_to() -> None:
    asked, resolve = stub_dns(
        {"hooks.example": ["93.184.215.14"], "split.example": ["93.184.215.14", "10.0.0.7"]}
    )
    policy = EgressPolicy([], resolver=resolve)  # type: ignore[arg-type]
    assert policy.check_url("https://hooks.example/in") == [ip("93.184.215.14")]
    with pytest.raises(EgressRefused, match=r"split\.example resolves to 10\.0\.0\.7, a private"):
        policy.check_url("https://split.example/in")
    assert asked == ["hooks.example", "split.example"]


def test_allowlisted_host_name_passes_whatever_it_resolves_to() -> None:
    _, resolve = stub_dns(
        {"ci.internal": ["10.1.2.3"], "ci.internal.": ["10.1.2.3"], "other.internal": ["10.1.2.3"]}
    )
    policy = EgressPolicy(["CI.internal."], resolver=resolve)  # type: ignore[arg-type]
    assert policy.check_url("http://ci.internal:9000/hook") == [ip("10.1.2.3")]
    assert policy.check_url("http://CI.Internal./hook") == [ip("10.1.2.3")]
    with pytest.raises(EgressRefused, match=r"other\.internal resolves to 10\.1\.2\.3"):
        policy.check_url("http://other.internal/hook")


def test_lookup_failure_is_its_own_error() -> None:
    _, resolve = stub_dns({})
    with pytest.raises(EgressLookupError, match="did not resolve"):
        EgressPolicy([], resolver=resolve).check_url("http://gone.example/")  # type: ignore[arg-type]


def test_localhost_is_resolved_and_judged_by_its_address() -> None:
    # The system resolver answers "localhost" from the hosts file.
    with pytest.raises(EgressRefused, match=r"localhost resolves to .*loopback"):
        EgressPolicy([]).check_url("http://localhost:8000/")

    system = {address for *_, (address, *_) in socket.getaddrinfo("localhost", 8000)}
    allow_v4 = EgressPolicy(["127.0.0.1"])
    if system == {"127.0.0.1"}:
        assert allow_v4.check_url("http://localhost:8000/") == [ip("127.0.0.1")]
    else:
        # Every address must pass: an IPv6 loopback answer is not covered by 127.0.0.1.
        with pytest.raises(EgressRefused, match="loopback"):
            allow_v4.check_url("http://localhost:8000/")
    both = EgressPolicy(["127.0.0.0/8", "::1"]).check_url("http://localhost:8000/")
    assert ip("127.0.0.1") in both
    assert {str(address) for address in both} <= {"127.0.0.1", "::1"}


def test_is_allowed() -> None:
    policy = EgressPolicy(["10.9.0.0/16"])
    assert policy.is_allowed(ip("8.8.8.8"))
    assert policy.is_allowed(ip("10.9.1.1"))
    assert policy.is_allowed(ip("::ffff:10.9.1.1"))
    assert not policy.is_allowed(ip("10.8.1.1"))
    assert not policy.is_allowed(ip("::ffff:127.0.0.1"))


def test_from_env() -> None:
    policy = EgressPolicy.from_env(
        {"NOTARIUM_EGRESS_ALLOWLIST": "127.0.0.1, 10.0.0.0/8,,hooks.internal"}
    )
    assert policy.allowlist == ("127.0.0.1", " 10.0.0.0/8", "hooks.internal")
    assert policy.hosts == frozenset({"hooks.internal"})
    assert EgressPolicy.from_env({}).allowlist == ()


@pytest.mark.parametrize("entry", ["http://hooks.internal", "10.0.0.0/33", "host:8080", "a b"])
def test_malformed_allowlist_entries_are_configuration_errors(entry: str) -> None:
    with pytest.raises(ConfigurationError, match="NOTARIUM_EGRESS_ALLOWLIST"):
        EgressPolicy([entry])


def test_policy_is_a_frozen_value() -> None:
    policy = EgressPolicy(["127.0.0.1"])
    assert policy == EgressPolicy(("127.0.0.1",))
    with pytest.raises(AttributeError):
        policy.allowlist = ()  # type: ignore[misc]
