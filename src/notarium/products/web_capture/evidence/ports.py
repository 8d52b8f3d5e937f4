"""What the evidence packager needs from outside: a time-stamp authority."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from notarium.ledger.tsa.authority import TimeStampAuthority
from notarium.ledger.tsa.ports import SerialSource


@runtime_checkable
class Timestamper(Protocol):
    def timestamp(self, digest: bytes) -> bytes:
        """A DER RFC 3161 TimeStampToken (certificates included) over a SHA-256 digest."""
        ...


class InProcessTimestamper:
    """Asks the built-in authority directly: no HTTP round trip to the server itself."""

    def __init__(self, authority: TimeStampAuthority, serials: SerialSource) -> None:
        self._authority = authority
        self._serials = serials

    def timestamp(self, digest: bytes) -> bytes:
        issued = self._authority.issue(
            digest=digest, serial=self._serials.next_serial(), include_certs=True
        )
        return issued.der
