"""Proof bundles: building them, canonicalising and signing records, verifying offline."""

from notarium.proofs.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    RecordFacts,
    build_bundle,
    format_created_at,
)
from notarium.proofs.canonical import canonical_json
from notarium.proofs.signing import (
    Ed25519RecordSigner,
    RecordSigner,
    signed_note_key_id,
    verify_ed25519,
)
from notarium.proofs.verify import (
    Check,
    SectionVerifier,
    VerificationReport,
    VerifiedRecord,
    load_bundle,
    verify_bundle,
)

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "Check",
    "Ed25519RecordSigner",
    "RecordFacts",
    "RecordSigner",
    "SectionVerifier",
    "VerificationReport",
    "VerifiedRecord",
    "build_bundle",
    "canonical_json",
    "format_created_at",
    "load_bundle",
    "signed_note_key_id",
    "verify_bundle",
    "verify_ed25519",
]
