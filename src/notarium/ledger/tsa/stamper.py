"""One way to obtain a time-stamp token, whichever authority issues it.

Evidence packages, PDF seals and ``POST /tsa`` draw their tokens through a
:class:`TimeStamper`: the built-in authority asked in process, an authority reached over
HTTP, or a fake in tests.
Records are the exception by design: their serial is drawn inside the record's own
transaction, so the records service holds a :class:`TokenIssuer` instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol, runtime_checkable

import httpx
from asn1crypto import core, tsp

from notarium.core.errors import NotariumError, TimestampingError
from notarium.formats.rfc3161.asn1 import TimeStampResp
from notarium.formats.rfc3161.token import parse_timestamp_token, verify_token_signature
from notarium.ledger.tsa.authority import IssuedToken, TimeStampAuthority, check_imprint
from notarium.ledger.tsa.ports import SerialSource


@dataclass(frozen=True)
class TsaOptions:
    """How the built-in authority fills in its tokens."""

    policy_oid: str
    accuracy_ms: int


@runtime_checkable
class TimeStamper(Protocol):
    def stamp(self, digest: bytes, *, hash_algo: str = "sha256") -> IssuedToken:
        """A token over ``digest``, certificates included, under a fresh serial."""
        ...

    def timestamp(self, digest: bytes) -> bytes:
        """The DER token alone over a SHA-256 digest: what signed documents embed."""
        ...


class IssuedTokenLike(Protocol):
    @property
    def der(self) -> bytes: ...

    @property
    def gen_time(self) -> datetime: ...


class TokenIssuer(Protocol):
    """An authority issuing under a serial the caller drew in its own transaction."""

    def issue(
        self,
        *,
        digest: bytes,
        hash_algorithm: str = "sha256",
        serial: int,
        nonce: int | None = None,
        include_certs: bool = True,
        policy_oid: str | None = None,
    ) -> IssuedTokenLike: ...


class InProcessStamper:
    """Asks the built-in authority directly: no HTTP round trip to the server itself."""

    def __init__(self, authority: TimeStampAuthority, serials: SerialSource) -> None:
        self.authority = authority
        self.serials = serials

    def stamp(self, digest: bytes, *, hash_algo: str = "sha256") -> IssuedToken:
        # Serials are durable rows: a refused digest must not use one up.
        check_imprint(digest, hash_algo)
        return self.authority.issue(
            digest=digest,
            hash_algorithm=hash_algo,
            serial=self.serials.next_serial(),
            include_certs=True,
        )

    def timestamp(self, digest: bytes) -> bytes:
        return self.stamp(digest).der

    def respond(self, request_der: bytes) -> bytes:
        """Answer a DER TimeStampReq with a DER TimeStampResp; never raises. A serial is
        drawn only for a request the authority accepts."""
        return self.authority.respond(request_der, self.serials)


class TsaUnavailableError(TimestampingError):
    """An external authority could not be reached, or answered with something other
    than a token over what was asked."""

    code = "TSA_UNAVAILABLE"


class HttpStamper:
    """An RFC 3161 authority reached over HTTP (RFC 3161 §3.4), e.g. an operator's
    external TSA. The reply is bound to the request (imprint and nonce) and its
    signature checked before the token is handed on; trusting its issuer is the
    caller's decision."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self._timeout = timeout
        self._transport = transport

    def stamp(self, digest: bytes, *, hash_algo: str = "sha256") -> IssuedToken:
        check_imprint(digest, hash_algo)
        nonce = secrets.randbits(63)
        request = tsp.TimeStampReq(
            {
                "version": 1,
                "message_imprint": {
                    "hash_algorithm": {"algorithm": hash_algo},
                    "hashed_message": digest,
                },
                "nonce": nonce,
                "cert_req": True,
            }
        ).dump()
        try:
            with httpx.Client(transport=self._transport, timeout=self._timeout) as client:
                reply = client.post(self.url, content=request, headers=_QUERY_HEADERS)
        except httpx.HTTPError as exc:
            raise TsaUnavailableError(f"{self.url}: {exc}") from exc
        if reply.status_code != 200:
            raise TsaUnavailableError(f"{self.url} answered HTTP {reply.status_code}")
        token_der = _granted_token(reply.content, self.url)
        try:
            token = parse_timestamp_token(token_der)
            verify_token_signature(token)
        except NotariumError as exc:
            raise TsaUnavailableError(f"{self.url} sent an unusable token: {exc}") from exc
        if (token.imprint, token.imprint_algorithm, token.nonce) != (digest, hash_algo, nonce):
            raise TsaUnavailableError(f"{self.url} sent a token for another request")
        return IssuedToken(
            der=token_der,
            serial=token.serial_number,
            gen_time=token.gen_time,
            hash_algorithm=hash_algo,
            digest=digest,
        )

    def timestamp(self, digest: bytes) -> bytes:
        return self.stamp(digest).der


_QUERY_HEADERS: Final = {"Content-Type": "application/timestamp-query"}


def _granted_token(reply: bytes, url: str) -> bytes:
    try:
        response = TimeStampResp.load(reply, strict=True)
        status = response["status"]["status"].native
        token = response["time_stamp_token"]
    except Exception as exc:
        raise TsaUnavailableError(f"{url} sent no TimeStampResp") from exc
    if status not in ("granted", "granted_with_mods") or isinstance(token, core.Void):
        text = response["status"]["status_string"].native or []
        raise TsaUnavailableError(f"{url} refused the request: {status} {' '.join(text)}".rstrip())
    return bytes(token.dump())
