"""Sealed certificates kept on disk, one file per record and fingerprint of its facts.

Sealing costs a time-stamp and a signature, so a certificate is built once per state of
its record and served from here until a fact on it changes. Each server keeps its own
cache (a cache miss only costs a rebuild), so nothing here needs to be shared.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from notarium.adapters.pki.files import publish_new
from notarium.products.certificate_pdf.errors import CertificatePdfError

_SAFE_KEY = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")
FILE_MODE = 0o640


class PdfCache:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def _path(self, key: str, fingerprint: str) -> Path:
        # Keys name files, so they are held to a character set no path trick survives.
        if not _SAFE_KEY.match(key) or not _FINGERPRINT.match(fingerprint):
            raise CertificatePdfError(f"unusable certificate cache key {key!r}")
        return self.directory / f"{key}.{fingerprint}.pdf"

    def get(self, key: str, fingerprint: str) -> bytes | None:
        try:
            return self._path(key, fingerprint).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, fingerprint: str, pdf: bytes) -> None:
        """Store ``pdf`` complete or not at all, then drop the key's older versions."""
        path = self._path(key, fingerprint)
        self.directory.mkdir(parents=True, exist_ok=True)
        # Another request may have built the same version meanwhile; either copy serves.
        publish_new(path, pdf, FILE_MODE)
        for stale in self.directory.glob(f"{key}.*.pdf"):
            if stale != path:
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
