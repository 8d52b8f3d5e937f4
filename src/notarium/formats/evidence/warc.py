"""The capture as one WARC 1.1 file, written by warcio, gzip-compressed per record.

Per exchange a ``response`` record and then a ``request`` record pointing at it with
``WARC-Concurrent-To``, both dated when the browser sent the request; then ``resource``
records for the full-page screenshot and the rendered DOM, and a ``metadata`` record
with the capture facts as JSON.

Headers follow the conventions of webrecorder's browsertrix-crawler, so replay tools
read the file as they read theirs: every exchange is written in HTTP/1.1 form (HTTP/2
pseudo-headers dropped, ``Host`` taken from ``:authority``); because bodies are stored
decoded, ``Content-Encoding`` and ``Transfer-Encoding`` are kept as ``x-orig-...`` and
a ``Content-Length`` present is set to the stored length; non-ASCII header values are
percent-encoded. Screenshot and DOM are named ``urn:<kind>:<page URL>`` as that crawler
names its screenshots (``urn:fullPage:``) and text (``urn:text:``).

Digests are SHA-256 (warcio's default is SHA-1, whose collisions make it unfit for
evidence); ``warcio check`` verifies either.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import quote, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from notarium.core.timefmt import iso_micros
from notarium.formats.evidence.capture_result import CaptureResult, Exchange, Header
from notarium.formats.evidence.errors import EvidenceBuildError

WARC_NAME: Final = "data.warc.gz"
SCREENSHOT_URN: Final = "urn:fullPage:"
DOM_URN: Final = "urn:dom:"
WARC_1_1_SPEC: Final = (
    "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
)

_RENAMED: Final = frozenset({"content-encoding", "transfer-encoding"})
# Printable ASCII stays as it is; everything else in a header value is percent-encoded.
_SAFE_HEADER_CHARS: Final = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


class _Sha256WarcWriter(WARCWriter):  # type: ignore[misc]
    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


@dataclass(frozen=True)
class WarcFile:
    data: bytes
    page_url: str
    """The page the capture certifies: the final URL the browser rendered."""
    page_date: datetime
    """``WARC-Date`` of that page's response record, which replay looks the page up by."""


def warc_date(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise EvidenceBuildError("exchange times must be timezone-aware")
    return iso_micros(instant)


def _header_value(value: str) -> str:
    flat = value.replace("\r\n", ", ").replace("\n", ", ").replace("\r", " ")
    return quote(flat, safe=_SAFE_HEADER_CHARS) if not flat.isascii() else flat


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _request_headers(exchange: Exchange) -> list[tuple[str, str]]:
    authority = next((h.value for h in exchange.request_headers if h.name == ":authority"), None)
    headers = [
        (h.name, _header_value(h.value))
        for h in exchange.request_headers
        if not h.name.startswith(":")
    ]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", authority or urlsplit(exchange.url).netloc))
    return headers


def _response_headers(headers: tuple[Header, ...], body_length: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for header in headers:
        if header.name.startswith(":"):
            continue
        lower = header.name.lower()
        if lower == "content-length":
            out.append((header.name, str(body_length)))
        elif lower in _RENAMED:
            out.append((f"x-orig-{header.name}", _header_value(header.value)))
        else:
            out.append((header.name, _header_value(header.value)))
    return out


def _status_line(exchange: Exchange) -> str:
    text = exchange.status_text
    if not text:
        try:
            text = HTTPStatus(exchange.status).phrase
        except ValueError:
            text = ""
    return f"{exchange.status} {text}".rstrip()


def _record_id(record: Any) -> str:
    return str(record.rec_headers.get_header("WARC-Record-ID"))


def main_document(result: CaptureResult) -> Exchange:
    """The exchange that delivered the rendered page: the first non-redirect response
    for the final URL, else the first exchange."""
    for exchange in result.exchanges:
        if exchange.url == result.final_url and not 300 <= exchange.status < 400:
            return exchange
    if not result.exchanges:
        raise EvidenceBuildError("the capture recorded no HTTP exchange")
    return result.exchanges[0]


def build_warc(result: CaptureResult, *, software: str, facts: dict[str, Any]) -> WarcFile:
    """Write ``result`` as a WARC 1.1 file; ``facts`` become the metadata record."""
    if not result.exchanges:
        raise EvidenceBuildError("the capture recorded no HTTP exchange")
    buffer = io.BytesIO()
    writer = _Sha256WarcWriter(buffer, gzip=True, warc_version="1.1")

    info = writer.create_warcinfo_record(
        WARC_NAME,
        {
            "software": software,
            "format": "WARC File Format 1.1",
            "conformsTo": WARC_1_1_SPEC,
            "http-header-user-agent": result.user_agent,
            "description": f"Capture of {result.requested_url}",
        },
    )
    info.rec_headers.replace_header("WARC-Date", warc_date(result.started))
    writer.write_record(info)

    page = main_document(result)
    page_record_id = ""
    for exchange in result.exchanges:
        if exchange.status <= 0:
            # A request that got no answer has no response to archive.
            continue
        response_id = _write_exchange(writer, exchange)
        if exchange is page:
            page_record_id = response_id

    finished = warc_date(result.finished)
    for uri, content_type, body in (
        (SCREENSHOT_URN + result.final_url, "image/png", result.screenshot_png),
        (DOM_URN + result.final_url, "text/html; charset=utf-8", result.dom_html.encode()),
    ):
        writer.write_record(
            writer.create_warc_record(
                uri,
                "resource",
                payload=io.BytesIO(body),
                length=len(body),
                warc_content_type=content_type,
                warc_headers_dict={"WARC-Date": finished},
            )
        )

    metadata = json.dumps(facts, ensure_ascii=False, sort_keys=True, indent=2).encode()
    writer.write_record(
        writer.create_warc_record(
            result.final_url,
            "metadata",
            payload=io.BytesIO(metadata),
            length=len(metadata),
            warc_content_type="application/json",
            warc_headers_dict={"WARC-Date": finished, "WARC-Concurrent-To": page_record_id},
        )
    )
    return WarcFile(buffer.getvalue(), page_url=page.url, page_date=page.started)


def _write_exchange(writer: WARCWriter, exchange: Exchange) -> str:
    date = warc_date(exchange.started)
    common = {"WARC-Date": date}
    if exchange.server_ip:
        common["WARC-IP-Address"] = exchange.server_ip

    body = exchange.response_body
    response = writer.create_warc_record(
        exchange.url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=StatusAndHeaders(
            _status_line(exchange),
            _response_headers(exchange.response_headers, len(body)),
            protocol="HTTP/1.1",
        ),
        warc_headers_dict=dict(common),
    )
    writer.write_record(response)
    response_id = _record_id(response)

    request_body = exchange.request_body or b""
    request = writer.create_warc_record(
        exchange.url,
        "request",
        payload=io.BytesIO(request_body),
        length=len(request_body),
        # warcio writes protocol then status line: "GET /path HTTP/1.1".
        http_headers=StatusAndHeaders(
            f"{_request_target(exchange.url)} HTTP/1.1",
            _request_headers(exchange),
            protocol=exchange.method,
        ),
        warc_headers_dict={**common, "WARC-Concurrent-To": response_id},
    )
    writer.write_record(request)
    return response_id
