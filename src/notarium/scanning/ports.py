"""The one Protocol every malware scanner implements, and its verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Protocol, runtime_checkable

from notarium.errors import NotariumError, ValidationError


class MalwareDetected(ValidationError):
    """The upload matched a malware signature; it is refused and never stored."""

    code = "malware_detected"


class ScannerUnavailable(NotariumError):
    """The scanner could not be reached or failed; the upload is refused, not waved through."""

    code = "scanner_unavailable"


@dataclass(frozen=True)
class ScanVerdict:
    clean: bool
    signature: str | None = None
    """The matched signature's name when not clean."""


@runtime_checkable
class MalwareScanner(Protocol):
    @property
    def name(self) -> str: ...

    def scan(self, stream: IO[bytes]) -> ScanVerdict:
        """Reads ``stream`` to its end; never raises :class:`MalwareDetected` itself."""
        ...
