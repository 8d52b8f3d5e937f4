"""The stand-in when no scanner is configured: uploads pass unscanned, and it says so."""

from __future__ import annotations

from typing import IO

from notarium.adapters.scanning.ports import ScanVerdict

_DRAIN_CHUNK = 64 * 1024


class NoScanner:
    """Reports every upload clean with ``scanned=False``; its name tells operators (health
    output, logs) that nothing was scanned and how to turn scanning on."""

    @property
    def name(self) -> str:
        return "none: uploads are not scanned (set NOTARIUM_CLAMD_ADDRESS to scan them)"

    def ping(self) -> None:
        """Always healthy: there is nothing to reach."""

    def scan(self, stream: IO[bytes]) -> ScanVerdict:
        # The Protocol promises the stream is read to its end; callers may rely on it.
        while stream.read(_DRAIN_CHUNK):
            pass
        return ScanVerdict(clean=True, scanned=False)
