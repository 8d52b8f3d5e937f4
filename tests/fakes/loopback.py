"""A small HTTP server on a free loopback port, the base of the protocol fakes.

Subclasses implement :meth:`LoopbackServer.answer`; the base adds the knobs every
remote service needs in tests: server errors, canned replies, latency and going
offline (the listening socket is closed, so connections are refused, and reopened
on the same port afterwards so that stored URLs stay valid).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

MAX_REQUEST_BODY = 1024 * 1024


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # Clients that time out hang up mid-reply; that is what the tests provoke.


class LoopbackServer:
    """``with Subclass(...) as server:`` serves on ``server.url`` until the block ends."""

    name = "loopback"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._failures = 0
        self._canned: list[Reply] = []
        self._requests: list[Request] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self.delay = 0.0
        """Seconds to wait before answering each request."""

    # -- identity -------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"the fake {self.name} has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    # -- knobs ----------------------------------------------------------------------

    def fail_next(self, n: int = 1) -> None:
        """Answer the next ``n`` requests with HTTP 500 and a plain-text body."""
        with self._lock:
            self._failures += n

    def reply_next(self, reply: Reply) -> None:
        """Answer the next request with ``reply`` verbatim (queued, first in first out)."""
        with self._lock:
            self._canned.append(reply)

    @property
    def offline(self) -> bool:
        return self._server is None and self._port is not None

    @offline.setter
    def offline(self, value: bool) -> None:
        if value and self._server is not None:
            self._close()
        elif not value and self._server is None:
            self._open()

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> Self:
        self._stopping.clear()
        self._open()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _open(self) -> None:
        server = _Server(("127.0.0.1", self._port or 0), _handler(self))
        self._port = int(server.server_address[1])
        # A short poll interval keeps shutdown (each test's teardown) quick.
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"fake-{self.name}"
        )
        thread.daemon = True
        self._server, self._thread = server, thread
        thread.start()

    def _close(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    # -- serving --------------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        raise NotImplementedError

    def _dispatch(self, request: Request) -> Reply:
        with self._lock:
            self._requests.append(request)
            if self._failures:
                self._failures -= 1
                return Reply(500, b"internal server error", "text/plain")
            canned = self._canned.pop(0) if self._canned else None
        if self.delay:
            # Waking on stop() keeps a slow reply from outliving the test.
            self._stopping.wait(self.delay)
        if canned is not None:
            return canned
        try:
            return self.answer(request)
        except Exception as exc:
            return Reply(500, f"{type(exc).__name__}: {exc}".encode(), "text/plain")


def _handler(owner: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            length = self.headers.get("Content-Length", "0")
            if not length.isdigit() or int(length) > MAX_REQUEST_BODY:
                self._send(Reply(413, b"request body too large", "text/plain"))
                return
            self._serve(self.rfile.read(int(length)))

        def _serve(self, body: bytes) -> None:
            headers = {key.lower(): value for key, value in self.headers.items()}
            self._send(owner._dispatch(Request(self.command, self.path, headers, body)))

        def _send(self, reply: Reply) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, socket.timeout):
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # Test output stays readable; failures surface through the client.

    return Handler
