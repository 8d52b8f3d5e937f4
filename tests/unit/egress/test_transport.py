"""The guarded client against servers on 127.0.0.1. Refusals aim at other loopback
addresses, which the policy must stop before any connection is attempted."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from egress.tls import https_server, self_signed
from fakes.loopback import LoopbackServer, Reply, Request
from notarium.adapters.egress import EgressPolicy, EgressRefused, IPAddress, guarded_client


class Echo(LoopbackServer):
    name = "echo"

    def answer(self, request: Request) -> Reply:
        return Reply(200, f"{request.method} {request.path}".encode(), "text/plain")


@pytest.fixture
def server() -> Iterator[Echo]:
    with Echo() as running:
        yield running


def resolver_for(answers: dict[str, list[str]], asked: list[str]) -> object:
    def resolve(host: str, port: int) -> list[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address(address) for address in answers[host]]

    return resolve


def test_allowlisted_loopback_address_is_fetched(server: Echo) -> None:
    with guarded_client(EgressPolicy(["127.0.0.1"]), timeout=5) as client:
        response = client.get(f"{server.url}/hello")
    assert (response.status_code, response.text) == (200, "GET /hello")
    assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"
    assert server.requests[0].headers["connection"] == "close"


def test_allowlisted_by_cidr(server: Echo) -> None:
    with guarded_client(EgressPolicy(["127.0.0.0/31"]), timeout=5) as client:
        assert client.get(server.url).status_code == 200


def test_other_loopback_address_is_refused_before_connecting(server: Echo) -> None:
    with (
        guarded_client(EgressPolicy(["127.0.0.1"]), timeout=5) as client,
        pytest.raises(EgressRefused, match=r"127\.0\.0\.2.*loopback"),
    ):
        client.get(f"http://127.0.0.2:{server.port}/")
    assert server.requests == []


def test_nothing_loopback_passes_without_an_allowlist(server: Echo) -> None:
    with guarded_client(EgressPolicy([]), timeout=5) as client, pytest.raises(EgressRefused):
        client.get(server.url)
    assert server.requests == []


def test_localhost_name_is_judged_by_its_address(server: Echo) -> None:
    with (
        guarded_client(EgressPolicy(["10.0.0.0/8"]), timeout=5) as client,
        pytest.raises(EgressRefused, match=r"localhost resolves to .*loopback"),
    ):
        client.get(f"http://localhost:{server.port}/")
    assert server.requests == []


def test_redirect_to_a_refused_address_is_stopped(server: Echo) -> None:
    server.reply_next(Reply(302, headers={"Location": f"http://127.0.0.2:{server.port}/inner"}))
    with (
        guarded_client(EgressPolicy(["127.0.0.1"]), timeout=5) as client,
        pytest.raises(EgressRefused, match=r"127\.0\.0\.2"),
    ):
        client.get(f"{server.url}/start")
    assert [request.path for request in server.requests] == ["/start"]


def test_redirect_to_a_name_of_a_refused_address_is_stopped(server: Echo) -> None:
    asked: list[str] = []
    resolve = resolver_for({"elsewhere.test": ["127.0.0.2"]}, asked)
    policy = EgressPolicy(["127.0.0.1"], resolver=resolve)  # type: ignore[arg-type]
    server.reply_next(Reply(307, headers={"Location": f"http://elsewhere.test:{server.port}/"}))
    with (
        guarded_client(policy, timeout=5) as client,
        pytest.raises(EgressRefused, match=r"elsewhere\.test resolves to 127\.0\.0\.2"),
    ):
        client.post(f"{server.url}/start", content=b"{}")
    assert asked == ["elsewhere.test"]
    assert [request.path for request in server.requests] == ["/start"]


def test_allowed_redirects_are_followed_up_to_the_limit(server: Echo) -> None:
    server.reply_next(Reply(302, headers={"Location": "/second"}))
    with guarded_client(EgressPolicy(["127.0.0.1"]), timeout=5) as client:
        response = client.get(f"{server.url}/first")
    assert response.text == "GET /second"
    assert [r.status_code for r in response.history] == [302]

    for _ in range(3):
        server.reply_next(Reply(302, headers={"Location": "/again"}))
    with (
        guarded_client(EgressPolicy(["127.0.0.1"]), timeout=5, max_redirects=2) as client,
        pytest.raises(httpx.TooManyRedirects),
    ):
        client.get(f"{server.url}/loop")


def test_connects_to_the_vetted_address_without_a_second_lookup(server: Echo) -> None:
    asked: list[str] = []
    resolve = resolver_for({"hooks.test": ["127.0.0.1"]}, asked)
    policy = EgressPolicy(["127.0.0.1"], resolver=resolve)  # type: ignore[arg-type]
    with guarded_client(policy, timeout=5) as client:
        # The system resolver does not know hooks.test: reaching the server proves the
        # connection went to the address the policy vetted.
        response = client.get(f"http://hooks.test:{server.port}/pinned")
    assert response.status_code == 200
    assert asked == ["hooks.test"]
    assert server.requests[0].headers["host"] == f"hooks.test:{server.port}"
    assert str(response.request.url) == f"http://hooks.test:{server.port}/pinned"


def test_rebinding_answer_is_judged_as_a_whole(server: Echo) -> None:
    asked: list[str] = []
    resolve = resolver_for({"rebind.test": ["127.0.0.1", "127.0.0.2"]}, asked)
    policy = EgressPolicy(["127.0.0.1"], resolver=resolve)  # type: ignore[arg-type]
    with guarded_client(policy, timeout=5) as client, pytest.raises(EgressRefused):
        client.get(f"http://rebind.test:{server.port}/")
    assert server.requests == []


def test_falls_back_to_the_next_vetted_address(server: Echo) -> None:
    asked: list[str] = []
    # Nothing listens on 127.0.0.3, so its connection is refused at once.
    resolve = resolver_for({"two.test": ["127.0.0.3", "127.0.0.1"]}, asked)
    policy = EgressPolicy(["127.0.0.0/8"], resolver=resolve)  # type: ignore[arg-type]
    with guarded_client(policy, timeout=5) as client:
        assert client.get(f"http://two.test:{server.port}/").status_code == 200
    assert asked == ["two.test"]


def test_https_only(server: Echo) -> None:
    with (
        guarded_client(EgressPolicy(["127.0.0.1"]), timeout=5, https_only=True) as client,
        pytest.raises(EgressRefused, match="not https"),
    ):
        client.get(server.url)
    assert server.requests == []


def test_environment_proxies_are_ignored(server: Echo, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.2:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with guarded_client(EgressPolicy(["127.0.0.1"]), timeout=5) as client:
        assert client.get(server.url).status_code == 200


def test_tls_sends_and_verifies_the_name_while_connecting_to_the_ip(tmp_path: Path) -> None:
    certificate = self_signed(tmp_path, dns=["hooks.test"])
    asked: list[str] = []
    resolve = resolver_for({"hooks.test": ["127.0.0.1"]}, asked)
    policy = EgressPolicy(["127.0.0.1"], resolver=resolve)  # type: ignore[arg-type]
    with (
        https_server(certificate) as seen,
        guarded_client(policy, timeout=5, verify=certificate.client_context()) as client,
    ):
        response = client.get(f"https://hooks.test:{seen.port}/")
        assert response.status_code == 200
        assert seen.server_names == ["hooks.test"]
        assert seen.hosts == [f"hooks.test:{seen.port}"]

        # The certificate names hooks.test only, so the bare IP must fail verification:
        # the check above passed on the name, not on the address connected to.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            client.get(f"https://127.0.0.1:{seen.port}/")
