"""One way to obtain a time-stamp token, whichever authority issues it.

Evidence packages, PDF seals and ``POST /tsa`` draw their tokens through a
:class:`TimeStamper` (the built-in authority asked in process, or a fake in tests).
Records are the exception by design: their serial is drawn inside the record's own
transaction, so the records service holds a :class:`TokenIssuer` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

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
