"""Packaging a capture's evidence for the web capture service: notarium's
EvidenceService, with the package kept as the ZIP it hands out plus the parts the
certificate PDF shows."""

from __future__ import annotations

from dataclasses import dataclass

from notarium.formats.evidence.capture_result import CaptureResult
from notarium.formats.evidence.package import MANIFEST, SCREENSHOT_FILE
from notarium.products.web_capture.evidence.service import EvidenceService
from notarium.products.web_capture.values import EvidenceFile

EVIDENCE_ZIP = "evidence.zip"


@dataclass(frozen=True)
class PackagedEvidence:
    manifest_sha256: str
    """What enters the pipeline: the record's hash."""
    manifest_size: int
    files: tuple[EvidenceFile, ...]
    """Stored with the capture; served as they are."""


class EvidencePackager:
    def __init__(self, service: EvidenceService) -> None:
        self.service = service

    def package(self, result: CaptureResult, recording_id: str) -> PackagedEvidence:
        built = self.service.build(result, recording_id)
        return PackagedEvidence(
            manifest_sha256=built.manifest_sha256,
            manifest_size=len(built.manifest),
            files=(
                EvidenceFile(EVIDENCE_ZIP, "application/zip", built.zip_bytes),
                EvidenceFile(MANIFEST, "application/json", built.manifest),
                EvidenceFile(SCREENSHOT_FILE, "image/png", built.screenshot_png),
            ),
        )
