"""Evidence packaging for web captures: WARC, signed WACZ, signed and time-stamped
manifest, one ZIP, and its offline verification."""

from notarium.evidence.package import EvidencePackage
from notarium.evidence.service import EvidenceService, build_evidence_service
from notarium.evidence.verify import EvidenceCheck, EvidenceReport, verify_evidence_package

__all__ = [
    "EvidenceCheck",
    "EvidencePackage",
    "EvidenceReport",
    "EvidenceService",
    "build_evidence_service",
    "verify_evidence_package",
]
