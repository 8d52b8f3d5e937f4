"""An in-process scanner for tests: flags content that contains a marker.

The default marker is the EICAR test string, so a test written against this fake also
holds against a real clamd whose database knows EICAR.
"""

from __future__ import annotations

from typing import IO

from notarium.adapters.scanning.ports import ScannerUnavailable, ScanVerdict

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
FAKE_SIGNATURE = "Notarium.Fake.Marker"


class FakeScanner:
    """Streams like the real scanner (bounded memory, markers found across chunk
    boundaries). Set ``unavailable`` to a message to make every scan and ping fail."""

    def __init__(
        self,
        marker: bytes = EICAR,
        *,
        signature: str = FAKE_SIGNATURE,
        chunk_size: int = 64 * 1024,
        unavailable: str | None = None,
    ) -> None:
        if not marker:
            raise ValueError("the marker must not be empty")
        self.marker = marker
        self.signature = signature
        self.chunk_size = chunk_size
        self.unavailable = unavailable
        self.scans = 0
        """How many scans were asked for, so tests can see a refused upload was scanned."""

    @property
    def name(self) -> str:
        return "fake"

    def ping(self) -> None:
        if self.unavailable is not None:
            raise ScannerUnavailable(self.unavailable)

    def scan(self, stream: IO[bytes]) -> ScanVerdict:
        self.scans += 1
        self.ping()
        keep = len(self.marker) - 1
        tail = b""
        found = False
        while chunk := stream.read(self.chunk_size):
            window = tail + chunk
            found = found or self.marker in window
            tail = window[-keep:] if keep else b""
        if found:
            return ScanVerdict(clean=False, signature=self.signature)
        return ScanVerdict(clean=True)
