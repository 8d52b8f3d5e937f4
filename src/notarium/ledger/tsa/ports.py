"""What the time-stamp authority needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cryptography import x509


@runtime_checkable
class TokenSigner(Protocol):
    """Holds the TSA private key; may live in a file, an HSM or a remote service."""

    @property
    def certificate(self) -> x509.Certificate:
        """The TSA leaf certificate that matches the signing key."""
        ...

    @property
    def chain(self) -> Sequence[x509.Certificate]:
        """Issuers above the leaf, nearest first; the leaf itself is excluded."""
        ...

    def sign(self, data: bytes) -> bytes:
        """DER-encoded ECDSA signature with SHA-256 over ``data``."""
        ...


@runtime_checkable
class SerialSource(Protocol):
    """Serial numbers must be unique per TSA for its whole lifetime (RFC 3161 §2.4.2)."""

    def next_serial(self) -> int: ...
