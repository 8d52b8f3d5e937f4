"""In-memory stand-ins for the TSA ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from notarium.ledger.tsa.authority import IssuedToken, TimeStampAuthority
from notarium.ledger.tsa.ports import TokenSigner
from notarium.ledger.tsa.stamper import InProcessStamper


@dataclass
class CountingSerialSource:
    """Hands out ``start``, ``start + 1``, ... ; only unique within one process."""

    start: int = 1
    _next: int = field(init=False)

    def __post_init__(self) -> None:
        if self.start < 1:
            raise ValueError("serial numbers must be positive")
        self._next = self.start

    def next_serial(self) -> int:
        serial = self._next
        self._next += 1
        return serial


class FailingTokenSigner:
    """Wraps a real signer but refuses to sign, to exercise the systemFailure path."""

    def __init__(self, inner: TokenSigner) -> None:
        self._inner = inner

    @property
    def certificate(self) -> x509.Certificate:
        return self._inner.certificate

    @property
    def chain(self) -> Sequence[x509.Certificate]:
        return self._inner.chain

    def sign(self, data: bytes) -> bytes:
        raise RuntimeError("signing device unavailable")


class FakeStamper(InProcessStamper):
    """The built-in authority with in-memory serials, remembering every digest stamped."""

    def __init__(self, authority: TimeStampAuthority, *, start: int = 1) -> None:
        super().__init__(authority, CountingSerialSource(start))
        self.stamped: list[bytes] = []

    def stamp(self, digest: bytes, *, hash_algo: str = "sha256") -> IssuedToken:
        self.stamped.append(digest)
        return super().stamp(digest, hash_algo=hash_algo)
