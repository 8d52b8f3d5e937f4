"""An authority over HTTP: the request is RFC 3161 over HTTP, and only a token bound to
that request is accepted."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx
import pytest
from asn1crypto import tsp

from notarium.formats.rfc3161.token import parse_timestamp_token
from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.errors import UnsupportedHashAlgorithmError
from notarium.ledger.tsa.fakes import CountingSerialSource
from notarium.ledger.tsa.stamper import HttpStamper, TimeStamper, TsaUnavailableError

URL = "http://127.0.0.1:9/tsa"
DIGEST = hashlib.sha256(b"over the wire").digest()


def _tsa(
    authority: TimeStampAuthority,
    seen: list[httpx.Request],
    rewrite: Callable[[bytes], bytes] = lambda request: request,
) -> httpx.MockTransport:
    serials = CountingSerialSource(100)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = authority.respond(rewrite(request.content), serials)
        return httpx.Response(
            200, content=reply, headers={"Content-Type": "application/timestamp-reply"}
        )

    return httpx.MockTransport(answer)


def test_a_token_comes_back_bound_to_the_digest(authority: TimeStampAuthority) -> None:
    seen: list[httpx.Request] = []
    stamper = HttpStamper(URL, transport=_tsa(authority, seen))
    assert isinstance(stamper, TimeStamper)
    issued = stamper.stamp(DIGEST)
    token = parse_timestamp_token(issued.der)
    assert (issued.serial, issued.digest, issued.hash_algorithm) == (100, DIGEST, "sha256")
    assert (token.imprint, token.gen_time) == (DIGEST, issued.gen_time)
    (request,) = seen
    assert request.method == "POST" and str(request.url) == URL
    assert request.headers["content-type"] == "application/timestamp-query"
    sent = tsp.TimeStampReq.load(request.content)
    assert sent["message_imprint"]["hashed_message"].native == DIGEST
    assert sent["nonce"].native == token.nonce is not None
    assert stamper.timestamp(DIGEST) != issued.der


def test_a_token_for_another_request_is_refused(authority: TimeStampAuthority) -> None:
    def other_nonce(request: bytes) -> bytes:
        parsed = tsp.TimeStampReq.load(request)
        return tsp.TimeStampReq(
            {
                "version": 1,
                "message_imprint": parsed["message_imprint"],
                "nonce": parsed["nonce"].native + 1,
                "cert_req": True,
            }
        ).dump()

    stamper = HttpStamper(URL, transport=_tsa(authority, [], other_nonce))
    with pytest.raises(TsaUnavailableError, match="another request"):
        stamper.stamp(DIGEST)


def test_a_rejection_is_reported_with_its_status(authority: TimeStampAuthority) -> None:
    def garbled(request: bytes) -> bytes:
        return b"\x30\x03garbage"

    stamper = HttpStamper(URL, transport=_tsa(authority, [], garbled))
    with pytest.raises(TsaUnavailableError, match="refused the request: rejection"):
        stamper.stamp(DIGEST)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [(503, b"", "HTTP 503"), (200, b"not DER", "no TimeStampResp")],
)
def test_broken_answers_are_errors(status: int, body: bytes, message: str) -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(status, content=body))
    with pytest.raises(TsaUnavailableError, match=message):
        HttpStamper(URL, transport=transport).stamp(DIGEST)


def test_an_unreachable_authority_is_an_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(TsaUnavailableError, match="connection refused"):
        HttpStamper(URL, transport=httpx.MockTransport(refuse)).stamp(DIGEST)


def test_a_digest_no_authority_accepts_is_refused_before_sending() -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing may be sent")

    with pytest.raises(UnsupportedHashAlgorithmError):
        HttpStamper(URL, transport=httpx.MockTransport(never)).stamp(DIGEST, hash_algo="md5")
