"""Hostile input against the real server process: a refused body leaves the kept-alive
connection usable, and X-Forwarded-For moves a client to another per-IP bucket only
when it comes from a proxy listed in NOTARIUM_TRUSTED_PROXIES."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from server import Server, server_env

from notarium.http.families.l402.routes import MALFORMED

pytestmark = pytest.mark.slow

# Refused bodies count against one small per-IP bucket of the L402 endpoint.
MALFORMED_PER_MINUTE = MALFORMED.per_minute


def _start(tmp_path: Path, **env: str) -> Server:
    data_dir = tmp_path / "data"
    server = Server(data_dir, server_env(data_dir, NOTARIUM_BASE_URL="http://127.0.0.1", **env))
    server.start()
    return server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = _start(tmp_path)
    yield srv
    srv.stop()


def _send(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, str | None]:
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read(), response.getheader("connection")


def test_a_refused_body_keeps_the_connection_alive(server: Server) -> None:
    auth = {"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        requests = [
            (
                "/api/v1/timestamps",
                b'{"sha256_hash": "' + b"5f" * 32 + b'", "filename": "a\\ud800"}',
            ),
            ("/v1/certificates", b'{"sha256Hash": "' + b"6f" * 32 + b'", "fileName": "\\ud800"}'),
            ("/api/v1/coverage", b'{"url": "https://127.0.0.1/\\ud800"}'),
            ("/api/v1/certificates", b'{"url": "https://127.0.0.1/\\udc00"}'),
            ("/v1/webhooks", b'{"url": "https://h.example/\\u0000", "events": []}'),
            ("/api/l402", b'{"action": "l402_timestamp", "hash": "\\ud800"}'),
        ]
        for path, body in requests:
            status, content, connection = _send(conn, "POST", path, body, auth)
            assert status == 400, (path, content)
            assert connection != "close", path
            json.loads(content)
            sock = conn.sock
            # The very same socket still serves a normal request.
            status, content, _ = _send(conn, "GET", "/healthz")
            assert status == 200 and conn.sock is sock, path
    finally:
        conn.close()


def _malformed_until_limited(port: int, forwarded_for: list[str]) -> int:
    """Refused L402 requests, each with its own X-Forwarded-For value, until one is
    rate limited; how many got through."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for sent, address in enumerate(forwarded_for):
            status, content, _ = _send(
                conn,
                "POST",
                "/api/l402",
                b"not json",
                {"Content-Type": "application/json", "X-Forwarded-For": address},
            )
            if status == 429:
                return sent
            assert status == 400, content
        return len(forwarded_for)
    finally:
        conn.close()


def test_a_client_cannot_reset_its_limit_with_x_forwarded_for(server: Server) -> None:
    addresses = [f"203.0.113.{i}" for i in range(1, 3 * MALFORMED_PER_MINUTE)]
    # Every request comes from the same socket peer, whatever the header claims.
    assert _malformed_until_limited(server.port, addresses) == MALFORMED_PER_MINUTE


def test_a_trusted_proxy_forwards_each_clients_address(tmp_path: Path) -> None:
    proxy = _start(tmp_path, NOTARIUM_TRUSTED_PROXIES="127.0.0.0/8, ::1")
    try:
        # Behind the trusted proxy, each client has its own bucket ...
        distinct = [f"203.0.113.{i}" for i in range(1, 3 * MALFORMED_PER_MINUTE)]
        assert _malformed_until_limited(proxy.port, distinct) == len(distinct)
        # ... and a client's forged entries to the left of what the proxy appended do
        # not get it a fresh one: the right-most untrusted address counts.
        forged = [f"198.51.100.{i}, 192.0.2.50" for i in range(1, 3 * MALFORMED_PER_MINUTE)]
        assert _malformed_until_limited(proxy.port, forged) == MALFORMED_PER_MINUTE
    finally:
        proxy.stop()
