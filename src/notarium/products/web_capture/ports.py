"""What the web capture service needs from the evidence packager."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from notarium.formats.evidence.capture_result import CaptureResult
from notarium.products.web_capture.values import EvidenceFile


@dataclass(frozen=True)
class PackagedEvidence:
    manifest_sha256: str
    """What enters the pipeline: the record's hash."""
    manifest_size: int
    files: tuple[EvidenceFile, ...]
    """Stored with the capture; served as they are."""


class EvidencePackager(Protocol):
    def package(self, result: CaptureResult, recording_id: str) -> PackagedEvidence:
        """Raises a NotariumError with code ``certification_failed`` when the capture holds
        nothing to certify."""
        ...
