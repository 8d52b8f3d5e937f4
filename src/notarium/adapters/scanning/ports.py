"""The one Protocol every malware scanner implements, and its verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Protocol, runtime_checkable

from notarium.core.errors import NotariumError, ValidationError


class MalwareDetected(ValidationError):
    """The upload matched a malware signature; it is refused and never stored."""

    code = "malware_detected"


class ScannerUnavailable(NotariumError):
    """The scanner could not be reached or failed; the upload is refused, not waved through."""

    code = "scanner_unavailable"


class ScanLimitExceeded(ScannerUnavailable):
    """The scanner refused the stream as larger than it is configured to scan (clamd's
    ``StreamMaxLength``). Still a refusal, never a pass; the operator's limit needs raising."""

    code = "scan_limit_exceeded"


@dataclass(frozen=True)
class ScanVerdict:
    clean: bool
    signature: str | None = None
    """The matched signature's name when not clean."""
    scanned: bool = True
    """False when no scanner looked at the content (scanning is not configured)."""


@runtime_checkable
class MalwareScanner(Protocol):
    @property
    def name(self) -> str: ...

    def scan(self, stream: IO[bytes]) -> ScanVerdict:
        """Reads ``stream`` to its end; never raises :class:`MalwareDetected` itself."""
        ...
