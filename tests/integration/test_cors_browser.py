"""CORS with a real browser: a page served on one loopback port calls the API on another
with ``fetch``, as the documents' browser examples do. From an origin listed in
``NOTARIUM_CORS_ORIGINS`` the calls work and the page reads the headers clients use;
from any other origin the browser blocks them and the request never reaches a route."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright

from conftest import Tenant, make_tenant
from notarium.adapters.store import migrate
from notarium.app.runtime import Runtime, build_runtime
from notarium.app.settings import Settings
from notarium.http.app import create_app
from notarium.products.web_capture.browser.browser_pool import browser_args

PAGE = b"<!doctype html><html><head><title>client</title></head><body>client</body></html>"

# The timestamps document's browser example (FETCH: CREATE TIMESTAMP), then its list
# example, reading what a client reads from each response.
CREATE_AND_LIST = """
async ([base, key]) => {
  try {
    const response = await fetch(base + '/api/v1/timestamps', {
      method: 'POST',
      headers: {
        Authorization: 'Bearer ' + key,
        'Content-Type': 'application/json',
        'Idempotency-Key': crypto.randomUUID(),
      },
      body: JSON.stringify({
        sha256_hash: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
        filename: 'msa-v3.pdf',
        file_size_bytes: 248331,
        file_type: 'application/pdf',
      }),
    })
    const payload = await response.json()
    const listed = await fetch(base + '/api/v1/timestamps?status=pending&limit=10', {
      headers: { Authorization: 'Bearer ' + key },
    })
    const list = await listed.json()
    return {
      status: response.status,
      id: payload.id,
      requestId: response.headers.get('X-Request-Id'),
      rateLimit: response.headers.get('X-RateLimit-Limit'),
      rateRemaining: response.headers.get('X-RateLimit-Remaining'),
      listStatus: listed.status,
      listed: list.data.map((t) => t.id),
    }
  } catch (error) {
    return { error: String(error) }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _eventually(condition: Callable[[], bool], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@dataclass
class PageSite:
    origin: str


@pytest.fixture
def pages() -> Iterator[tuple[PageSite, PageSite]]:
    """Two client sites, each on its own loopback port: two distinct origins."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield cast(
            tuple[PageSite, PageSite],
            tuple(PageSite(f"http://127.0.0.1:{s.server_address[1]}") for s in servers),
        )
    finally:
        for server, thread in zip(servers, threads, strict=True):
            server.shutdown()
            server.server_close()
            thread.join(timeout=60)


@dataclass
class Api:
    base: str
    runtime: Runtime
    tenant: Tenant


@pytest.fixture
def api(tmp_path: Path, pages: tuple[PageSite, PageSite]) -> Iterator[Api]:
    allowed, _ = pages
    port = _free_port()
    runtime = build_runtime(
        Settings(
            data_dir=tmp_path / "data",
            base_url=f"http://127.0.0.1:{port}",
            ots_calendars=[],
            embedded_workers=False,
            cors_origins=[allowed.origin],
        )
    )
    migrate.upgrade(runtime.engine)
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _eventually(lambda: server.started)
        yield Api(f"http://127.0.0.1:{port}", runtime, make_tenant(runtime))
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        runtime.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(Settings().capture_chromium_path), args=browser_args()
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _run_from(browser: Browser, site: PageSite, api: Api) -> dict[str, Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site.origin + "/")
        return cast(dict[str, Any], page.evaluate(CREATE_AND_LIST, [api.base, api.tenant.key]))
    finally:
        context.close()


def _stored(api: Api) -> int:
    with TestClient(create_app(api.runtime)) as client:
        listed = client.get("/api/v1/timestamps", headers=api.tenant.auth)
        return int(listed.json()["total_count"])


def test_a_listed_origin_calls_the_api_from_the_browser(
    browser: Browser, pages: tuple[PageSite, PageSite], api: Api
) -> None:
    allowed, _ = pages
    result = _run_from(browser, allowed, api)
    assert "error" not in result, result
    assert result["status"] == 201
    assert result["requestId"] and result["requestId"].startswith("req_")
    assert result["rateLimit"] == "30" and result["rateRemaining"] is not None
    assert result["listStatus"] == 200 and result["listed"] == [result["id"]]
    assert _stored(api) == 1


def test_another_origin_is_blocked_by_the_browser(
    browser: Browser, pages: tuple[PageSite, PageSite], api: Api
) -> None:
    _, foreign = pages
    result = _run_from(browser, foreign, api)
    assert "TypeError" in result.get("error", ""), result
    # The preflight was refused, so the create itself was never sent.
    assert _stored(api) == 0
