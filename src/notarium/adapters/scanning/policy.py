"""Turning a verdict into a refusal: the one place MalwareDetected is raised."""

from __future__ import annotations

from typing import IO

from notarium.adapters.scanning.ports import MalwareDetected, MalwareScanner, ScanVerdict


def require_clean(scanner: MalwareScanner, stream: IO[bytes]) -> ScanVerdict:
    """Scans ``stream``; raises MalwareDetected when it is not clean, lets
    ScannerUnavailable through (an unscannable upload is refused, never waved through)."""
    verdict = scanner.scan(stream)
    if not verdict.clean:
        raise MalwareDetected(
            f"the upload matches the malware signature {verdict.signature or '(unnamed)'}"
            " and was refused"
        )
    return verdict
