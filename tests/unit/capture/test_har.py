"""Reading the browser's HAR: the corrections made to it and the exchanges taken from it,
on HAR logs written the way Playwright writes them."""

from __future__ import annotations

import base64
import json
from typing import Any

from notarium.products.web_capture.browser.egress_proxy import Connection, ProxyLog, Refusal
from notarium.products.web_capture.browser.har import read_har

PAGE = "page@1"
MAIN = "frame@main"


def entry(
    url: str,
    status: int,
    *,
    started: str = "2026-01-02T03:04:05.100Z",
    kind: str = "document",
    frame: str = MAIN,
    location: str = "",
    body: str | None = None,
    encoding: str | None = None,
    mime: str = "text/html",
    version: str = "http/1.1",
    post: str | None = None,
) -> dict[str, Any]:
    content: dict[str, Any] = {"size": len(body or ""), "mimeType": mime}
    if body is not None:
        content["text"] = body
    if encoding:
        content["encoding"] = encoding
    request: dict[str, Any] = {
        "method": "POST" if post else "GET",
        "url": url,
        "httpVersion": version,
        "cookies": [],
        "headers": [{"name": "Accept", "value": "*/*"}],
        "queryString": [],
        "headersSize": -1,
        "bodySize": 0,
    }
    if post is not None:
        request["postData"] = {"mimeType": "text/plain", "text": post}
    response = {
        "status": status,
        "statusText": "" if status < 0 else "OK",
        "httpVersion": version,
        "cookies": [],
        "headers": [{"name": "Location", "value": location}] if location else [],
        "content": content,
        "headersSize": -1,
        "bodySize": -1,
        "redirectURL": location,
    }
    if status < 0:
        response["_failureText"] = "net::ERR_EMPTY_RESPONSE"
    return {
        "pageref": PAGE,
        "startedDateTime": started,
        "time": 12.5,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": 10, "receive": 2.5},
        "_frameref": frame,
        "_resourceType": kind,
        "serverIPAddress": "127.0.0.1",  # what Playwright reports: the proxy
        "_serverPort": 41111,
    }


def har(*entries: dict[str, Any], page_started: str = "2026-01-02T03:04:00.000Z") -> bytes:
    return json.dumps(
        {
            "log": {
                "version": "1.2",
                "creator": {"name": "Playwright", "version": "1.65.2"},
                "browser": {"name": "chromium", "version": "156.0.0.0"},
                "pages": [
                    {
                        "startedDateTime": page_started,
                        "id": PAGE,
                        "title": "t",
                        "pageTimings": {"onContentLoad": 5300, "onLoad": 5500},
                    }
                ],
                "entries": list(entries),
            }
        }
    ).encode()


def log(**addresses: str) -> ProxyLog:
    proxy = ProxyLog()
    for key, address in addresses.items():
        host, port = key.rsplit("_", 1)
        proxy.connections.append(Connection(host.replace("_", "."), int(port), address))
    return proxy


def test_redirect_chain_comes_first_and_becomes_the_redirects() -> None:
    raw = har(
        entry("http://a.test/1", 301, location="/2"),
        entry("http://a.test/style.css", 200, kind="stylesheet", body="h1{}", mime="text/css"),
        entry("http://a.test/2", 302, location="http://b.test/final"),
        entry("http://b.test/final", 200, body="<h1>final</h1>"),
    )
    recorded = read_har(raw, log(a_test_80="203.0.113.7", b_test_80="198.51.100.9"))
    assert [e.url for e in recorded.exchanges] == [
        "http://a.test/1",
        "http://a.test/2",
        "http://b.test/final",
        "http://a.test/style.css",
    ]
    assert [(r.url, r.status, r.location) for r in recorded.redirects] == [
        ("http://a.test/1", 301, "http://a.test/2"),
        ("http://a.test/2", 302, "http://b.test/final"),
    ]
    assert recorded.final_status == 200
    assert recorded.exchanges[2].response_body == b"<h1>final</h1>"
    assert recorded.exchanges[0].redirect_url == "http://a.test/2"


def test_server_addresses_are_the_ones_the_proxy_connected_to() -> None:
    raw = har(
        entry("https://a.test/", 200, body="x"),
        entry("https://cdn.test:8443/p.png", 200, kind="image", body="", mime="image/png"),
    )
    recorded = read_har(raw, log(a_test_443="203.0.113.7"))
    entries = json.loads(recorded.har)["log"]["entries"]
    assert entries[0]["serverIPAddress"] == "203.0.113.7"
    assert entries[0]["_serverPort"] == 443
    # No connection to cdn.test was made (say, a cached response): no address is claimed.
    assert "serverIPAddress" not in entries[1] and "_serverPort" not in entries[1]
    assert [e.server_ip for e in recorded.exchanges] == ["203.0.113.7", None]


def test_refused_requests_are_taken_out_and_other_failures_kept() -> None:
    raw = har(
        entry("http://a.test/", 200, body="page"),
        entry("http://10.0.0.5/secret.png", -1, kind="image"),
        entry("http://down.test/x.js", -1, kind="script"),
    )
    proxy = log(a_test_80="203.0.113.7")
    proxy.refusals.append(Refusal("10.0.0.5", 80, "http://10.0.0.5/secret.png", "private", True))
    proxy.refusals.append(Refusal("down.test", 80, "http://down.test/x.js", "no DNS", False))
    recorded = read_har(raw, proxy)
    urls = [e["request"]["url"] for e in json.loads(recorded.har)["log"]["entries"]]
    assert urls == ["http://a.test/", "http://down.test/x.js"]
    assert recorded.refused == ("http://10.0.0.5/secret.png",)
    # Exchanges are what got an answer.
    assert [e.url for e in recorded.exchanges] == ["http://a.test/"]


def test_bodies_versions_and_request_bodies() -> None:
    picture = bytes(range(256))
    raw = har(
        entry("https://a.test/", 200, body="<p>é</p>", version="h2"),
        entry(
            "https://a.test/p.bin",
            200,
            kind="image",
            body=base64.b64encode(picture).decode(),
            encoding="base64",
            mime="application/octet-stream",
            version="h3",
        ),
        entry("https://a.test/api", 200, kind="fetch", body="{}", post="a=1", version="http/1.0"),
    )
    main, binary, api = read_har(raw, ProxyLog()).exchanges
    assert main.response_body == "<p>é</p>".encode()
    assert (main.http_version, binary.http_version, api.http_version) == (
        "HTTP/2.0",
        "HTTP/3.0",
        "HTTP/1.0",
    )
    assert binary.response_body == picture
    assert (api.method, api.request_body, api.resource_type) == ("POST", b"a=1", "fetch")
    assert main.request_body is None
    assert main.started.isoformat() == "2026-01-02T03:04:05.100000+00:00"


def test_page_start_moves_to_its_first_request() -> None:
    """The page was created ahead of the capture; its timings count from its first request."""
    raw = har(entry("https://a.test/", 200, body="x", started="2026-01-02T03:04:05.000Z"))
    [page] = json.loads(read_har(raw, ProxyLog()).har)["log"]["pages"]
    assert page["startedDateTime"] == "2026-01-02T03:04:05.000Z"
    assert page["pageTimings"] == {"onContentLoad": 300.0, "onLoad": 500.0}


def test_main_document_of_a_later_navigation_is_the_final_one() -> None:
    """A challenge page that navigated on to the real page: the real page is final."""
    raw = har(
        entry("https://a.test/", 503, body="Just a moment..."),
        entry("https://a.test/frame", 200, frame="frame@child", body="child"),
        entry("https://a.test/?passed", 302, location="/real"),
        entry("https://a.test/real", 200, body="real"),
    )
    recorded = read_har(raw, ProxyLog())
    assert [e.url for e in recorded.exchanges][:2] == [
        "https://a.test/?passed",
        "https://a.test/real",
    ]
    assert recorded.final_status == 200
    assert len(recorded.redirects) == 1
