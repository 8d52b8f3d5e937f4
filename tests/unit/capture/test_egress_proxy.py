"""The capture's egress proxy on its own, driven by plain HTTP clients: what it passes,
what it refuses, and that it connects only to the address it vetted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from fakes.pages import PRIVATE_HOST, PUBLIC_HOST, LocalSite, Resolver
from notarium.adapters.egress.policy import EgressPolicy
from notarium.products.web_capture.browser.egress_proxy import EgressProxy

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        yield running


@pytest.fixture
def resolver() -> Resolver:
    return Resolver({"public.test": [PUBLIC_HOST], "private.test": [PRIVATE_HOST]})


@pytest.fixture
async def proxy(site: LocalSite, resolver: Resolver) -> AsyncIterator[EgressProxy]:
    site.clear_hits()
    running = await EgressProxy(EgressPolicy([PUBLIC_HOST], resolver=resolver)).start()
    yield running
    await running.close()


def client(proxy: EgressProxy) -> httpx.AsyncClient:
    return httpx.AsyncClient(proxy=proxy.server, trust_env=False, timeout=5)


async def connect(proxy: EgressProxy, authority: str) -> bytes:
    """Sends ``CONNECT authority`` and returns the proxy's status line."""
    reader, writer = await asyncio.open_connection(PUBLIC_HOST, proxy.port)
    try:
        writer.write(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        return head.split(b"\r\n", 1)[0]
    finally:
        writer.close()
        await writer.wait_closed()


async def test_allowed_plain_request_is_relayed_without_proxy_headers(
    proxy: EgressProxy, site: LocalSite
) -> None:
    async with client(proxy) as http:
        response = await http.get(site.url("/plain", "public.test"))
    assert response.status_code == 200
    assert b"A plain page" in response.content
    [hit] = site.hits()
    headers = dict(hit.headers)
    assert hit.address == PUBLIC_HOST
    assert headers["host"] == f"public.test:{site.port}"
    assert headers["connection"] == "close"
    assert "proxy-connection" not in headers
    assert hit.path == "/plain"  # origin-form, not the absolute URL the proxy received
    assert proxy.log.address_for("public.test", site.port) == PUBLIC_HOST
    assert proxy.log.refusals == []


async def test_refused_plain_request_gets_no_answer_and_reaches_nothing(
    proxy: EgressProxy, site: LocalSite
) -> None:
    async with client(proxy) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(site.private_url("/plain"))
    assert site.hits() == []
    [refusal] = proxy.log.refusals
    assert (refusal.host, refusal.port, refusal.policy) == (PRIVATE_HOST, site.port, True)
    assert "loopback" in refusal.reason
    assert proxy.log.refusal_for(PRIVATE_HOST, site.port) == refusal


async def test_name_resolving_to_a_private_address_is_refused(
    proxy: EgressProxy, site: LocalSite
) -> None:
    async with client(proxy) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(site.url("/plain", "private.test"))
    assert site.hits() == []
    assert "private.test resolves to 127.0.0.2" in proxy.log.refusals[0].reason


async def test_connect_to_an_allowed_address_is_tunnelled(
    proxy: EgressProxy, site: LocalSite
) -> None:
    assert await connect(proxy, f"{PUBLIC_HOST}:{site.tls_port}") == (
        b"HTTP/1.1 200 Connection Established"
    )
    assert proxy.log.address_for(PUBLIC_HOST, site.tls_port) == PUBLIC_HOST


async def test_connect_to_a_private_address_is_refused_with_403(
    proxy: EgressProxy, site: LocalSite
) -> None:
    assert await connect(proxy, f"{PRIVATE_HOST}:{site.port}") == b"HTTP/1.1 403 Forbidden"
    assert site.hits() == []
    assert proxy.log.connections == []


async def test_each_request_is_resolved_once_and_connected_to_that_address(
    site: LocalSite,
) -> None:
    """DNS rebinding: the name answers 127.0.0.1 first and 127.0.0.2 afterwards. The
    first request goes to the first address; the second is judged by the second answer
    and refused, although 127.0.0.2 serves the same page at the same port."""
    site.clear_hits()
    resolver = Resolver(sequences={"rebind.test": [[PUBLIC_HOST], [PRIVATE_HOST]]})
    proxy = await EgressProxy(EgressPolicy([PUBLIC_HOST], resolver=resolver)).start()
    try:
        async with client(proxy) as http:
            first = await http.get(site.url("/plain", "rebind.test"))
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get(site.url("/plain", "rebind.test"))
    finally:
        await proxy.close()
    assert first.status_code == 200
    assert resolver.asked == ["rebind.test", "rebind.test"]
    assert [hit.address for hit in site.hits()] == [PUBLIC_HOST]
    assert [c.address for c in proxy.log.connections] == [PUBLIC_HOST]
    assert proxy.log.refusals[0].host == "rebind.test"


async def test_unresolvable_host_is_not_a_policy_refusal(proxy: EgressProxy) -> None:
    async with client(proxy) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("http://nowhere.test/")
    [refusal] = proxy.log.refusals
    assert refusal.policy is False
    assert "did not resolve" in refusal.reason


async def test_closed_port_is_recorded_as_unreachable(proxy: EgressProxy, site: LocalSite) -> None:
    async with client(proxy) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(site.unreachable_url)
    failure = proxy.log.unreachable_for(PUBLIC_HOST, site.closed_port)
    assert failure is not None and failure.address == PUBLIC_HOST
    assert proxy.log.refusals == []


async def test_proxy_without_policy_refuses_everything_without_resolving(
    site: LocalSite, resolver: Resolver
) -> None:
    proxy = await EgressProxy(None).start()
    try:
        async with client(proxy) as http:
            with pytest.raises(httpx.RemoteProtocolError):
                await http.get(site.url("/plain", "public.test"))
        assert await connect(proxy, "update.example.test:443") == b"HTTP/1.1 403 Forbidden"
    finally:
        await proxy.close()
    assert resolver.asked == []
    assert [r.host for r in proxy.log.refusals] == ["public.test", "update.example.test"]


async def test_post_bodies_are_relayed(proxy: EgressProxy, site: LocalSite) -> None:
    async with client(proxy) as http:
        response = await http.post(site.url("/plain"), content=b"x" * 100_000)
    assert response.status_code == 200
    assert site.hits()[0].path == "/plain"


async def test_websocket_handshake_through_the_proxy_keeps_its_upgrade(
    proxy: EgressProxy, site: LocalSite
) -> None:
    """Chromium sends ws:// through an HTTP proxy as a plain request with Upgrade: the
    proxy must leave Connection: Upgrade alone and then carry the socket both ways."""
    reader, writer = await asyncio.open_connection(PUBLIC_HOST, proxy.port)
    try:
        writer.write(
            (
                f"GET {site.url('/ws')} HTTP/1.1\r\nHost: {PUBLIC_HOST}:{site.port}\r\n"
                "Proxy-Connection: keep-alive\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "\r\n"
            ).encode()
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        frame = await asyncio.wait_for(reader.readexactly(2 + 24), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    assert head.startswith(b"HTTP/1.1 101")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head
    assert b"connection: upgrade" in head.lower()
    assert frame[2:] == b"hello from the websocket"
    assert "proxy-connection" not in dict(site.hits()[0].headers)
