"""The browser's only way out: an HTTP proxy on 127.0.0.1 that vets every connection.

Chromium is launched with this proxy for everything, loopback included
(``<-loopback>``), so page loads, subresources, redirect hops, fetches and WebSockets all
arrive here as either ``CONNECT host:port`` (https, wss, ws) or an absolute-form plain
HTTP request. Each is resolved exactly once, by the egress policy, and the proxy
connects to one of the very addresses it checked: a DNS answer that changes between the
check and the connection (rebinding) cannot slip a private address through, because
there is no second lookup. Chromium itself never resolves a page's host names.

A refused CONNECT is answered ``403`` (Chromium fails the request with
``ERR_TUNNEL_CONNECTION_FAILED``); a refused plain request gets no answer at all, since
anything the proxy said would be shown to the page as the origin's own response.

A proxy built with ``policy=None`` refuses everything without resolving anything: the
browser-wide proxy, which only the browser's own background traffic ever reaches.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from notarium.adapters.egress.policy import EgressLookupError, EgressPolicy, IPAddress
from notarium.core.errors import NotariumError

MAX_HEAD_BYTES = 64 * 1024
MAX_LOG = 10_000  # entries per list: the browser-wide proxy lives as long as the browser
CHUNK = 64 * 1024
_PROXY_ONLY = frozenset({b"proxy-connection", b"proxy-authorization"})
_HOP_BY_HOP = _PROXY_ONLY | {b"connection", b"keep-alive"}


@dataclass(frozen=True)
class Refusal:
    """A request the proxy did not pass on."""

    host: str
    port: int
    url: str  # the full URL for plain http, "https://host:port" for a tunnel
    reason: str
    policy: bool  # True when the egress policy refused it, False when the host did not resolve


@dataclass(frozen=True)
class Connection:
    host: str
    port: int
    address: str


@dataclass
class ProxyLog:
    """What one proxy saw. Appended to from the event loop only."""

    connections: list[Connection] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    unreachable: list[Connection] = field(default_factory=list)
    """Vetted destinations no connection could be opened to (address: the last tried)."""

    def address_for(self, host: str, port: int) -> str | None:
        """The address the last connection to ``host:port`` went to."""
        host = _bare(host)
        for connection in reversed(self.connections):
            if (connection.host, connection.port) == (host, port):
                return connection.address
        return None

    def refusal_for(self, host: str, port: int) -> Refusal | None:
        host = _bare(host)
        for refusal in reversed(self.refusals):
            if (refusal.host, refusal.port) == (host, port):
                return refusal
        return None

    def unreachable_for(self, host: str, port: int) -> Connection | None:
        host = _bare(host)
        for failure in reversed(self.unreachable):
            if (failure.host, failure.port) == (host, port):
                return failure
        return None

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(connection.address for connection in self.connections))


class EgressProxy:
    """``await proxy.start()``, hand ``proxy.server`` to the browser, ``await proxy.close()``."""

    def __init__(
        self,
        policy: EgressPolicy | None,
        *,
        connect_timeout: float = 15.0,
        on_refusal: Callable[[Refusal], None] | None = None,
    ) -> None:
        self._policy = policy
        self._connect_timeout = connect_timeout
        self._on_refusal = on_refusal
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self.log = ProxyLog()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the egress proxy has not been started")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def server(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> EgressProxy:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", 0, limit=MAX_HEAD_BYTES
        )
        return self

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # The browser hung up or sent something that is not HTTP: nothing to relay.
        except asyncio.CancelledError:
            # The proxy is closing (its capture is over). Ending quietly keeps asyncio's
            # stream machinery from reporting a cancelled connection as an error.
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, _, rest = head.partition(b"\r\n")
        method, target, version = request_line.decode("latin-1").split(" ", 2)
        if method == "CONNECT":
            host, port = _split_authority(target)
            url, shown = f"https://{_authority(host, port)}/", f"https://{_authority(host, port)}"
        else:
            parts = urlsplit(target)
            if parts.scheme != "http" or not parts.hostname:
                return
            host, port = parts.hostname, parts.port or 80
            url = shown = target

        addresses = await self._vet(host, port, url, shown)
        if not addresses:
            if method == "CONNECT":
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
            return
        upstream = await self._connect(host, port, addresses)
        if upstream is None:
            if method == "CONNECT":
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
            return
        up_reader, up_writer = upstream
        try:
            if method == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                await writer.drain()
                await _relay(reader, writer, up_reader, up_writer)
            else:
                path = parts.path or "/"
                if parts.query:
                    path += "?" + parts.query
                first = f"{method} {path} {version}".encode("latin-1")
                # A WebSocket handshake (Chromium sends ws:// through a proxy as a plain
                # request with Upgrade) keeps its Connection header, and the connection
                # then carries the socket both ways, like a tunnel.
                upgrade = _has_header(rest, b"upgrade")
                headers = _without_proxy_headers(rest) if upgrade else _without_hop_by_hop(rest)
                up_writer.write(first + b"\r\n" + headers)
                await up_writer.drain()
                await _relay(reader, writer, up_reader, up_writer, rewrite_response=not upgrade)
        finally:
            up_writer.close()
            with contextlib.suppress(Exception):
                await up_writer.wait_closed()

    async def _vet(self, host: str, port: int, url: str, shown: str) -> tuple[IPAddress, ...]:
        """The addresses ``host`` may be reached at, from the one lookup; empty if none."""
        if self._policy is None:
            self._refuse(Refusal(_bare(host), port, shown, "browser background traffic", True))
            return ()
        try:
            destination = await asyncio.to_thread(self._policy.vet, url)
        except EgressLookupError as exc:
            self._refuse(Refusal(_bare(host), port, shown, exc.message, False))
            return ()
        except NotariumError as exc:
            self._refuse(Refusal(_bare(host), port, shown, exc.message, True))
            return ()
        return destination.addresses

    async def _connect(
        self, host: str, port: int, addresses: tuple[IPAddress, ...]
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for address in addresses:
            try:
                streams = await asyncio.wait_for(
                    asyncio.open_connection(str(address), port, limit=CHUNK),
                    self._connect_timeout,
                )
            except (OSError, TimeoutError):
                continue  # Nothing was sent yet, so the next vetted address may be tried.
            _append(self.log.connections, Connection(_bare(host), port, str(address)))
            return streams
        _append(self.log.unreachable, Connection(_bare(host), port, str(addresses[-1])))
        return None

    def _refuse(self, refusal: Refusal) -> None:
        _append(self.log.refusals, refusal)
        if self._on_refusal is not None:
            self._on_refusal(refusal)


def _append(entries: list[Any], entry: object) -> None:
    if len(entries) < MAX_LOG:
        entries.append(entry)


def _split_authority(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not host:port: {target!r}")
    return host, int(port)


def _bare(host: str) -> str:
    """Host names compare lowercase, IPv6 literals without brackets."""
    host = host.lower()
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _authority(host: str, port: int) -> str:
    bare = _bare(host)
    try:
        literal = ipaddress.ip_address(bare)
    except ValueError:
        return f"{bare}:{port}"
    return f"[{literal}]:{port}" if literal.version == 6 else f"{literal}:{port}"


def _has_header(headers: bytes, name: bytes) -> bool:
    return any(line.split(b":", 1)[0].strip().lower() == name for line in headers.split(b"\r\n"))


def _without_proxy_headers(headers: bytes) -> bytes:
    kept = [
        line
        for line in headers.split(b"\r\n")
        if line.split(b":", 1)[0].strip().lower() not in _PROXY_ONLY
    ]
    return b"\r\n".join(kept)


def _without_hop_by_hop(headers: bytes) -> bytes:
    """``headers`` (lines ending in the blank line) without the proxy's hop-by-hop headers,
    asking for ``Connection: close`` so that one upstream connection carries one exchange."""
    kept = [
        line
        for line in headers.split(b"\r\n")
        if line and line.split(b":", 1)[0].strip().lower() not in _HOP_BY_HOP
    ]
    return b"\r\n".join([*kept, b"Connection: close", b"", b""])


async def _relay(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    *,
    rewrite_response: bool = False,
) -> None:
    async def upstream_to_client() -> None:
        if rewrite_response:
            # The browser must not reuse this connection: the proxy relays one exchange per
            # connection, so it is told the connection closes after this response.
            try:
                head = await up_reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                client_writer.write(exc.partial)
            else:
                status_line, _, rest = head.partition(b"\r\n")
                client_writer.write(status_line + b"\r\n" + _without_hop_by_hop(rest))
            await client_writer.drain()
        while data := await up_reader.read(CHUNK):
            client_writer.write(data)
            await client_writer.drain()

    async def client_to_upstream() -> None:
        while data := await client_reader.read(CHUNK):
            up_writer.write(data)
            await up_writer.drain()
        if up_writer.can_write_eof():
            up_writer.write_eof()

    back = asyncio.ensure_future(upstream_to_client())
    forth = asyncio.ensure_future(client_to_upstream())
    try:
        # The exchange is over when the origin is done with it, or when the browser's side
        # breaks; a browser that merely stops sending (EOF) may still be owed a response.
        done, _ = await asyncio.wait({back, forth}, return_when=asyncio.FIRST_COMPLETED)
        if back not in done and forth.exception() is None:
            await back
    finally:
        for task in (back, forth):
            task.cancel()
        await asyncio.gather(back, forth, return_exceptions=True)
