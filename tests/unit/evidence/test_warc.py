from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from notarium.formats.evidence.capture_result import Header
from notarium.formats.evidence.errors import EvidenceBuildError
from notarium.formats.evidence.facts import capture_facts
from notarium.formats.evidence.warc import WarcFile, build_warc

from .captures import CSS, FINAL_URL, HTML, REQUESTED_URL, SCREENSHOT, sample_capture
from .checks import run
from .conftest import tool

SOFTWARE = "notarium test"


def warc_of(**changes: Any) -> WarcFile:
    result = sample_capture(**changes)
    return build_warc(result, software=SOFTWARE, facts=capture_facts(result))


def records(data: bytes) -> list[tuple[Any, bytes]]:
    out = []
    for record in ArchiveIterator(io.BytesIO(data)):
        out.append((record, record.content_stream().read()))
    return out


def sha256_b32(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(scope="module")
def warc() -> WarcFile:
    return warc_of()


def test_warcio_check_and_index_accept_the_file(warc: WarcFile, tmp_path: Path) -> None:
    path = tmp_path / "data.warc.gz"
    path.write_bytes(warc.data)

    checked = run(tool("warcio"), "check", "-v", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("digest pass") == 12
    assert "fail" not in checked.stdout

    indexed = run(tool("warcio"), "index", "-f", "warc-type,warc-target-uri", path)
    assert indexed.returncode == 0, indexed.stderr
    lines = [json.loads(line) for line in indexed.stdout.splitlines()]
    assert [line["warc-type"] for line in lines] == [
        "warcinfo",
        *["response", "request"] * 4,
        "resource",
        "resource",
        "metadata",
    ]


def test_warcio_check_fails_on_an_altered_body(warc: WarcFile, tmp_path: Path) -> None:
    # The digests are what make the file self-checking: an edited body is caught.
    plain = gzip.decompress(warc.data)
    assert plain.count(b"Revenue rose 4 %") == 2  # the HTML response and the rendered DOM
    forged = plain.replace(b"Revenue rose 4 %.</p>", b"Revenue rose 9 %.</p>", 1)
    path = tmp_path / "forged.warc"
    path.write_bytes(forged)
    checked = run(tool("warcio"), "check", path)
    assert checked.returncode == 1
    assert "payload digest failed" in checked.stdout


def test_each_exchange_is_a_response_then_its_request(warc: WarcFile) -> None:
    capture = sample_capture()
    items = records(warc.data)
    info, info_body = items[0]
    assert info.rec_type == "warcinfo"
    assert info.rec_headers.get_header("WARC-Date") == "2026-11-21T09:30:00.125000Z"
    assert b"software: notarium test" in info_body
    assert info.rec_headers.get_header("WARC-Filename") == "data.warc.gz"

    pairs = items[1:9]
    for index, exchange in enumerate(capture.exchanges):
        (response, body), (request, request_body) = pairs[2 * index], pairs[2 * index + 1]
        assert response.rec_type == "response" and request.rec_type == "request"
        assert response.rec_headers.get_header("WARC-Target-URI") == exchange.url
        assert request.rec_headers.get_header("WARC-Target-URI") == exchange.url
        expected_date = exchange.started.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert response.rec_headers.get_header("WARC-Date") == expected_date
        assert request.rec_headers.get_header("WARC-Date") == expected_date
        assert request.rec_headers.get_header("WARC-Concurrent-To") == (
            response.rec_headers.get_header("WARC-Record-ID")
        )
        assert response.rec_headers.get_header("WARC-IP-Address") == exchange.server_ip
        assert body == exchange.response_body
        assert request_body == b""
        assert response.rec_headers.get_header("WARC-Payload-Digest") == sha256_b32(body)
        assert response.http_headers.protocol == "HTTP/1.1"
        assert response.http_headers.get_statuscode() == str(exchange.status)


def test_http2_exchanges_are_written_in_http11_form(warc: WarcFile) -> None:
    items = records(warc.data)
    page_response, page_request = items[3][0], items[4][0]
    # HTTP/2 has no reason phrase; the standard one is supplied.
    assert page_response.http_headers.statusline == "200 OK"
    headers = dict(page_response.http_headers.headers)
    # The body is stored decoded, so the encoding is kept only as a record of the original.
    assert "content-encoding" not in headers
    assert headers["x-orig-content-encoding"] == "gzip"
    assert headers["content-length"] == str(len(HTML))
    assert headers["x-served-by"] == "cache-z%C3%BCrich-1"

    assert page_request.http_headers.protocol == "GET"
    assert page_request.http_headers.statusline == "/article?id=7 HTTP/1.1"
    request_headers = page_request.http_headers.headers
    assert request_headers[0] == ("Host", "www.example.test")
    assert not any(name.startswith(":") for name, _ in request_headers)

    redirect, redirect_request = items[1][0], items[2][0]
    assert redirect.http_headers.statusline == "301 Moved Permanently"
    assert redirect.http_headers.get_header("Location") == FINAL_URL
    # An HTTP/1.1 request keeps its own Host header, and only one.
    assert [n for n, _ in redirect_request.http_headers.headers].count("Host") == 1


def test_screenshot_dom_and_metadata_records(warc: WarcFile) -> None:
    capture = sample_capture()
    items = records(warc.data)
    (shot, shot_body), (dom, dom_body), (meta, meta_body) = items[-3:]
    finished = "2026-11-21T09:30:03.375000Z"

    assert shot.rec_type == "resource"
    assert shot.rec_headers.get_header("WARC-Target-URI") == f"urn:fullPage:{FINAL_URL}"
    assert shot.rec_headers.get_header("Content-Type") == "image/png"
    assert shot_body == SCREENSHOT
    assert dom.rec_headers.get_header("WARC-Target-URI") == f"urn:dom:{FINAL_URL}"
    assert dom.rec_headers.get_header("Content-Type") == "text/html; charset=utf-8"
    assert dom_body == capture.dom_html.encode()
    assert {shot.rec_headers.get_header("WARC-Date"), dom.rec_headers.get_header("WARC-Date")} == {
        finished
    }

    assert meta.rec_type == "metadata"
    assert meta.rec_headers.get_header("Content-Type") == "application/json"
    assert meta.rec_headers.get_header("WARC-Target-URI") == FINAL_URL
    page_response = items[3][0]
    assert meta.rec_headers.get_header("WARC-Concurrent-To") == (
        page_response.rec_headers.get_header("WARC-Record-ID")
    )
    facts = json.loads(meta_body)
    assert facts == capture_facts(capture)
    assert facts["requested_url"] == REQUESTED_URL
    assert facts["redirects"] == [{"url": REQUESTED_URL, "status": 301, "location": FINAL_URL}]


def test_page_is_the_final_document(warc: WarcFile) -> None:
    assert warc.page_url == FINAL_URL
    assert warc.page_date == sample_capture().exchanges[1].started


def test_request_bodies_and_unknown_statuses_are_kept() -> None:
    capture = sample_capture()
    post = replace(
        capture.exchanges[2],
        method="POST",
        request_body=b"q=1&r=2",
        request_headers=(Header("Content-Type", "application/x-www-form-urlencoded"),),
        status=599,
        status_text="",
        server_ip=None,
        response_headers=(Header("Set-Cookie", "a=1\nb=2"),),
    )
    warc = warc_of(exchanges=(*capture.exchanges[:2], post))
    items = records(warc.data)
    response, request = items[5], items[6]
    assert request[1] == b"q=1&r=2"
    assert request[0].http_headers.protocol == "POST"
    assert response[0].http_headers.statusline == "599"
    assert response[0].rec_headers.get_header("WARC-IP-Address") is None
    # A header value never spans lines in the archive.
    assert response[0].http_headers.get_header("Set-Cookie") == "a=1, b=2"
    assert items[5][1] == CSS


def test_a_capture_without_exchanges_cannot_be_archived() -> None:
    with pytest.raises(EvidenceBuildError, match="no HTTP exchange"):
        warc_of(exchanges=())


def test_naive_times_are_refused() -> None:
    capture = sample_capture()
    naive = replace(capture.exchanges[0], started=capture.exchanges[0].started.replace(tzinfo=None))
    with pytest.raises(EvidenceBuildError, match="timezone-aware"):
        warc_of(exchanges=(naive, *capture.exchanges[1:]))


def test_a_request_without_an_answer_is_not_archived() -> None:
    capture = sample_capture()
    failed = replace(capture.exchanges[3], status=-1, response_body=b"")
    warc = warc_of(exchanges=(*capture.exchanges[:3], failed))
    uris = [r.rec_headers.get_header("WARC-Target-URI") for r, _ in records(warc.data)]
    assert "https://www.example.test/logo.png" not in uris
    assert uris.count("https://www.example.test/static/site.css") == 2
