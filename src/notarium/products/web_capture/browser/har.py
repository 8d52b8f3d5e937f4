"""The browser's HAR, made true to the network it went through, and the exchanges in it.

Chromium reaches every server through the capture's egress proxy, so the HAR Playwright
writes names the proxy (127.0.0.1) as every entry's server address. Three corrections
are made, and no others: ``serverIPAddress`` (and ``_serverPort``) become the address
the proxy actually connected to for that origin (the key is dropped when no connection
was made, e.g. a response from cache); entries of requests the egress policy refused
are taken out — they never reached a server, and the refusal is reported separately
(``CaptureResult.blocked_requests``); and a page's ``startedDateTime`` becomes the start
of its first request (with ``pageTimings`` shifted to match), because the page was
created ahead of the capture, while its browser slot was idle. Requests that failed for
other reasons stay, as Playwright records them (status ``-1`` and a ``_failureText``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from notarium.formats.evidence.capture_result import Exchange, Header, Redirect
from notarium.products.web_capture.browser.egress_proxy import ProxyLog

Entry = dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    """The corrected HAR and what was read from it."""

    har: bytes
    exchanges: tuple[Exchange, ...]  # the final main document's chain first
    redirects: tuple[Redirect, ...]
    final_status: int
    refused: tuple[str, ...]  # URLs of entries taken out because the policy refused them


def origin_of(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    default = 443 if parts.scheme in ("https", "wss") else 80
    try:
        port = parts.port or default
    except ValueError:
        return None
    return parts.hostname.lower(), port


def read_har(raw: bytes, proxy: ProxyLog) -> Recorded:
    har = json.loads(raw)
    entries: list[Entry] = har["log"]["entries"]
    kept: list[Entry] = []
    refused: list[str] = []
    for entry in entries:
        url = str(entry["request"]["url"])
        origin = origin_of(url)
        answered = int(entry["response"].get("status", 0)) > 0
        if not answered and origin is not None:
            refusal = proxy.refusal_for(*origin)
            if refusal is not None and refusal.policy:
                refused.append(url)
                continue
        if answered:
            _correct_server(entry, origin, proxy)
        kept.append(entry)
    har["log"]["entries"] = kept
    for page in har["log"].get("pages", []):
        _start_page_at_first_request(page, kept)

    chain = _main_chain(kept)
    order = chain + [index for index in range(len(kept)) if index not in chain]
    exchanges = tuple(
        _exchange(kept[index]) for index in order if int(kept[index]["response"]["status"]) > 0
    )
    redirects = tuple(_redirect(kept[index]) for index in chain[:-1])
    final_status = int(kept[chain[-1]]["response"]["status"]) if chain else 0
    corrected = json.dumps(har, ensure_ascii=False, separators=(",", ":")).encode()
    return Recorded(corrected, exchanges, redirects, final_status, tuple(refused))


def _correct_server(entry: Entry, origin: tuple[str, int] | None, proxy: ProxyLog) -> None:
    address = proxy.address_for(*origin) if origin is not None else None
    if address is None:
        entry.pop("serverIPAddress", None)
        entry.pop("_serverPort", None)
    else:
        entry["serverIPAddress"] = address
        entry["_serverPort"] = origin[1] if origin is not None else None


def _start_page_at_first_request(page: dict[str, Any], entries: Sequence[Entry]) -> None:
    starts = [
        _parse_time(str(e["startedDateTime"])) for e in entries if e.get("pageref") == page["id"]
    ]
    if not starts:
        return
    created, first = _parse_time(str(page["startedDateTime"])), min(starts)
    shift = (first - created).total_seconds() * 1000
    if shift <= 0:
        return
    page["startedDateTime"] = _format_time(first)
    timings = page.get("pageTimings", {})
    for name in ("onContentLoad", "onLoad"):
        value = timings.get(name)
        if isinstance(value, int | float) and value >= 0:
            timings[name] = max(0.0, round(value - shift, 3))


def _main_chain(entries: Sequence[Entry]) -> list[int]:
    """Indices of the final main-frame document and the redirects that led to it."""
    documents = [i for i, e in enumerate(entries) if e.get("_resourceType") == "document"]
    if not documents:
        return []
    main_frame = entries[documents[0]].get("_frameref")
    in_main = [i for i in documents if entries[i].get("_frameref") == main_frame]
    finals = [
        i
        for i in in_main
        if int(entries[i]["response"]["status"]) > 0 and not _is_redirect(entries[i])
    ]
    if not finals:
        return []
    chain = [finals[-1]]
    while True:
        target = str(entries[chain[0]]["request"]["url"])
        previous = [
            i
            for i in in_main
            if i < chain[0] and _is_redirect(entries[i]) and _location(entries[i]) == target
        ]
        if not previous:
            return chain
        chain.insert(0, previous[-1])


def _is_redirect(entry: Entry) -> bool:
    status = int(entry["response"]["status"])
    return 300 <= status < 400 and bool(_location(entry))


def _location(entry: Entry) -> str:
    response = entry["response"]
    location = str(response.get("redirectURL") or "")
    if not location:
        location = next(
            (
                str(h["value"])
                for h in response.get("headers", [])
                if h["name"].lower() == "location"
            ),
            "",
        )
    return urljoin(str(entry["request"]["url"]), location) if location else ""


def _headers(items: Sequence[dict[str, Any]]) -> tuple[Header, ...]:
    return tuple(Header(str(item["name"]), str(item["value"])) for item in items)


def _http_version(value: str) -> str:
    lowered = value.lower()
    if lowered in ("h2", "http/2", "http/2.0"):
        return "HTTP/2.0"
    if lowered in ("h3", "http/3", "http/3.0") or lowered.startswith("h3-"):
        return "HTTP/3.0"
    if lowered.startswith("http/"):
        return "HTTP/" + lowered[5:]
    return "HTTP/1.1"


def _body(content: dict[str, Any]) -> bytes:
    text = content.get("text")
    if not text:
        return b""
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return b""
    return str(text).encode("utf-8")


def _exchange(entry: Entry) -> Exchange:
    request, response = entry["request"], entry["response"]
    post = request.get("postData")
    request_body = str(post["text"]).encode("utf-8") if post and post.get("text") else None
    return Exchange(
        started=_parse_time(str(entry["startedDateTime"])),
        method=str(request["method"]),
        url=str(request["url"]),
        http_version=_http_version(str(response.get("httpVersion") or request.get("httpVersion"))),
        request_headers=_headers(request.get("headers", [])),
        request_body=request_body,
        status=int(response["status"]),
        status_text=str(response.get("statusText", "")),
        response_headers=_headers(response.get("headers", [])),
        response_body=_body(response.get("content", {})),
        mime_type=str(response.get("content", {}).get("mimeType", "")),
        server_ip=entry.get("serverIPAddress"),
        time_ms=float(entry.get("time", 0.0)),
        redirect_url=_location(entry) if _is_redirect(entry) else "",
        resource_type=str(entry.get("_resourceType", "")),
    )


def _redirect(entry: Entry) -> Redirect:
    return Redirect(
        url=str(entry["request"]["url"]),
        status=int(entry["response"]["status"]),
        location=_location(entry),
    )


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
