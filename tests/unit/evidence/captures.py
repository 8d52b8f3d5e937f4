"""Hand-made capture results that look like what the browser engine records: a redirect,
an HTML document (served gzip-encoded over HTTP/2), a stylesheet and a PNG image, with a
matching HAR 1.2 log."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw

from notarium.formats.evidence.capture_result import (
    CaptureResult,
    Exchange,
    Header,
    Redirect,
    Timing,
    TlsDetails,
)

START = datetime(2026, 11, 21, 9, 30, 0, 125000, tzinfo=UTC)
REQUESTED_URL = "https://example.test/start"
FINAL_URL = "https://www.example.test/article?id=7"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

HTML = (
    "<!doctype html><html><head><title>Quarterly report — Example</title>"
    '<link rel="stylesheet" href="/static/site.css"></head>'
    '<body><h1>Quarterly report</h1><p>Revenue rose 4 %.</p><img src="/logo.png"></body>'
    "</html>"
).encode()
CSS = b"body { font-family: sans-serif; }\nh1 { color: #123456; }\n"


def png(width: int = 48, height: int = 96, colour: str = "navy") -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle((4, 4, width - 5, height // 3), fill=colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


LOGO = png(16, 16, "orange")
SCREENSHOT = png()


def _headers(*pairs: tuple[str, str]) -> tuple[Header, ...]:
    return tuple(Header(name, value) for name, value in pairs)


def _request_headers(authority: str, path: str) -> tuple[Header, ...]:
    return _headers(
        (":method", "GET"),
        (":authority", authority),
        (":scheme", "https"),
        (":path", path),
        ("user-agent", USER_AGENT),
        ("accept", "*/*"),
    )


def exchanges() -> tuple[Exchange, ...]:
    return (
        Exchange(
            started=START,
            method="GET",
            url=REQUESTED_URL,
            http_version="HTTP/1.1",
            request_headers=_headers(("Host", "example.test"), ("User-Agent", USER_AGENT)),
            request_body=None,
            status=301,
            status_text="Moved Permanently",
            response_headers=_headers(
                ("Location", FINAL_URL),
                ("Content-Length", "0"),
                ("Server", "nginx"),
            ),
            response_body=b"",
            mime_type="",
            server_ip="127.0.0.1",
            time_ms=12.5,
            redirect_url=FINAL_URL,
            resource_type="document",
        ),
        Exchange(
            started=START + timedelta(milliseconds=20),
            method="GET",
            url=FINAL_URL,
            http_version="HTTP/2.0",
            request_headers=_request_headers("www.example.test", "/article?id=7"),
            request_body=None,
            status=200,
            status_text="",
            response_headers=_headers(
                ("content-type", "text/html; charset=utf-8"),
                ("content-encoding", "gzip"),
                ("content-length", "187"),
                ("x-served-by", "cache-zürich-1"),
            ),
            response_body=HTML,
            mime_type="text/html",
            server_ip="127.0.0.2",
            time_ms=48.0,
            resource_type="document",
        ),
        Exchange(
            started=START + timedelta(milliseconds=90),
            method="GET",
            url="https://www.example.test/static/site.css",
            http_version="HTTP/2.0",
            request_headers=_request_headers("www.example.test", "/static/site.css"),
            request_body=None,
            status=200,
            status_text="",
            response_headers=_headers(
                ("content-type", "text/css"), ("cache-control", "max-age=60")
            ),
            response_body=CSS,
            mime_type="text/css",
            server_ip="127.0.0.2",
            time_ms=7.25,
            resource_type="stylesheet",
        ),
        Exchange(
            started=START + timedelta(milliseconds=95),
            method="GET",
            url="https://www.example.test/logo.png",
            http_version="HTTP/2.0",
            request_headers=_request_headers("www.example.test", "/logo.png"),
            request_body=None,
            status=200,
            status_text="",
            response_headers=_headers(("content-type", "image/png")),
            response_body=LOGO,
            mime_type="image/png",
            server_ip="127.0.0.2",
            time_ms=5.0,
            resource_type="image",
        ),
    )


def har(entries: tuple[Exchange, ...]) -> bytes:
    """A HAR 1.2 log of ``entries`` with embedded bodies, as Playwright records one."""

    def header_list(headers: tuple[Header, ...]) -> list[dict[str, str]]:
        return [{"name": h.name, "value": h.value} for h in headers]

    def content(exchange: Exchange) -> dict[str, Any]:
        body = exchange.response_body
        out: dict[str, Any] = {"size": len(body), "mimeType": exchange.mime_type or "x-unknown"}
        if exchange.mime_type.startswith("text/"):
            out["text"] = body.decode()
        elif body:
            out["text"] = base64.b64encode(body).decode()
            out["encoding"] = "base64"
        return out

    log = {
        "log": {
            "version": "1.2",
            "creator": {"name": "Playwright", "version": "1.49.0"},
            "browser": {"name": "chromium", "version": "131.0.6778.85"},
            "pages": [
                {
                    "startedDateTime": START.isoformat(),
                    "id": "page@1",
                    "title": "Quarterly report — Example",
                    "pageTimings": {"onContentLoad": 80.5, "onLoad": 120.0},
                }
            ],
            "entries": [
                {
                    "pageref": "page@1",
                    "startedDateTime": e.started.isoformat(),
                    "time": e.time_ms,
                    "request": {
                        "method": e.method,
                        "url": e.url,
                        "httpVersion": e.http_version,
                        "cookies": [],
                        "headers": header_list(e.request_headers),
                        "queryString": [],
                        "headersSize": -1,
                        "bodySize": 0,
                    },
                    "response": {
                        "status": e.status,
                        "statusText": e.status_text,
                        "httpVersion": e.http_version,
                        "cookies": [],
                        "headers": header_list(e.response_headers),
                        "content": content(e),
                        "redirectURL": e.redirect_url,
                        "headersSize": -1,
                        "bodySize": len(e.response_body),
                    },
                    "cache": {},
                    "timings": {"send": 0.5, "wait": e.time_ms - 1.0, "receive": 0.5},
                    "serverIPAddress": e.server_ip or "",
                }
                for e in entries
            ],
        }
    }
    return json.dumps(log, ensure_ascii=False, indent=2).encode()


def sample_capture(**changes: Any) -> CaptureResult:
    """A realistic finished capture; keyword arguments replace fields."""
    recorded = exchanges()
    result = CaptureResult(
        requested_url=REQUESTED_URL,
        final_url=FINAL_URL,
        title="Quarterly report — Example",
        started=START,
        finished=START + timedelta(seconds=3, milliseconds=250),
        viewport=(1280, 800),
        user_agent=USER_AGENT,
        browser_version="131.0.6778.85",
        screenshot_png=SCREENSHOT,
        har=har(recorded),
        dom_html=HTML.decode().replace("4 %", "4 % (updated)"),
        exchanges=recorded,
        redirects=(Redirect(REQUESTED_URL, 301, FINAL_URL),),
        server_ips=("127.0.0.1", "127.0.0.2"),
        tls=TlsDetails(
            protocol="TLS 1.3",
            cipher="AES_128_GCM",
            subject_name="www.example.test",
            issuer="Example Test CA",
            valid_from=datetime(2026, 9, 1, tzinfo=UTC),
            valid_to=datetime(2026, 12, 1, tzinfo=UTC),
        ),
        consent_dismissed=("OneTrust",),
        assisted=False,
        blocked_requests=("https://tracker.internal.test/pixel",),
        final_status=200,
        page_loaded=True,
        timings=(Timing("navigation", 182.4), Timing("scroll", 1250.5), Timing("screenshot", 96.0)),
    )
    return replace(result, **changes)
