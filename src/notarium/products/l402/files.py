"""File mode: the upload's type checked against its content, its size, a malware scan,
and optionally a copy kept under the data directory, named by its SHA-256.

An infected upload is refused before anything is written or charged, and an upload
that could not be scanned is refused too, never waved through.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

from notarium.adapters.pki.files import publish_new
from notarium.adapters.scanning.policy import require_clean
from notarium.adapters.scanning.ports import MalwareScanner
from notarium.formats.uploads.check import check_upload
from notarium.products.l402.errors import FileUploadsUnavailable
from notarium.products.l402.requests import FileTimestamp

log = logging.getLogger("notarium.products.l402")


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    size: int
    mime: str
    sha256: str


class FileIntake:
    def __init__(
        self,
        scanner: MalwareScanner,
        *,
        require_scan: bool = True,
        store_dir: Path | None = None,
    ) -> None:
        self.scanner = scanner
        self.require_scan = require_scan
        self.store_dir = store_dir

    def check(self, upload: FileTimestamp) -> CheckedFile:
        # The type must match both the name and the content (a ValidationError if not).
        mime = check_upload(upload.data, upload.filename).mime
        verdict = require_clean(self.scanner, io.BytesIO(upload.data))
        if not verdict.scanned and self.require_scan:
            raise FileUploadsUnavailable(
                "File uploads need a malware scanner and none is configured on this "
                "server; timestamp the file's SHA-256 hash instead."
            )
        return CheckedFile(upload.filename, len(upload.data), mime, upload.sha256)

    def store(self, upload: FileTimestamp) -> bool:
        """Keep the file when the operator asked for it; whether it is kept."""
        if self.store_dir is None:
            return False
        folder = self.store_dir / upload.sha256[:2]
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Content-addressed and write-once: the same bytes are kept once, whoever sent them.
        publish_new(folder / upload.sha256, upload.data, 0o600)
        return True
