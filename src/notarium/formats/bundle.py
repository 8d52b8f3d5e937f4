"""The proof bundle: a self-contained JSON document a third party can verify offline.

The layout is specified in docs/proof-format.md; keep the two in step.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.core.errors import ProofVerificationError
from notarium.core.hashing import sha256_bytes
from notarium.core.timefmt import iso_millis
from notarium.formats.canonical import MAX_SAFE_INTEGER, canonical_json
from notarium.formats.errors import BundleBuildError
from notarium.formats.rfc3161.token import parse_timestamp_token
from notarium.formats.signing import RecordSigner

BUNDLE_FORMAT = "notarium-proof"
BUNDLE_VERSION = 1
HASH_ALGORITHM = "sha256"
SIGNATURE_ALGORITHM = "ed25519"
SIGNED_SECTION = "record"

_CREATED_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
_LOWER_HEX64 = re.compile(r"[0-9a-f]{64}")


def format_created_at(instant: datetime) -> str:
    """Render an aware datetime the way records carry it: UTC, milliseconds, ``Z``."""
    if instant.tzinfo is None:
        raise BundleBuildError("created_at must be timezone-aware")
    return iso_millis(instant)


def is_valid_created_at(value: str) -> bool:
    if _CREATED_AT.fullmatch(value) is None:
        return False
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def is_lower_hex64(value: str) -> bool:
    return _LOWER_HEX64.fullmatch(value) is not None


@dataclass(frozen=True)
class RecordFacts:
    """What the service asserts about one notarised file, before the token is bound."""

    id: str
    certificate_id: str
    sha256: str
    filename: str
    file_size_bytes: int
    file_type: str | None
    created_at: str  # RFC 3339 UTC with milliseconds and Z, see format_created_at

    def __post_init__(self) -> None:
        for name in ("id", "certificate_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise BundleBuildError(f"record {name} must be a non-empty string")
        if not isinstance(self.filename, str):
            raise BundleBuildError("record filename must be a string")
        if not isinstance(self.sha256, str) or not is_lower_hex64(self.sha256):
            raise BundleBuildError("record sha256 must be 64 lowercase hex characters")
        size = self.file_size_bytes
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SAFE_INTEGER:
            raise BundleBuildError("record file_size_bytes must be an integer between 0 and 2^53-1")
        if self.file_type is not None and not isinstance(self.file_type, str):
            raise BundleBuildError("record file_type must be a string or None")
        if not isinstance(self.created_at, str) or not is_valid_created_at(self.created_at):
            raise BundleBuildError(
                "record created_at must look like 2026-01-31T12:34:56.789Z "
                "(RFC 3339, UTC, milliseconds)"
            )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _chain_pems(tsa_chain_pem: bytes) -> list[str]:
    try:
        certs = x509.load_pem_x509_certificates(tsa_chain_pem)
    except ValueError as exc:
        raise BundleBuildError(f"TSA chain is not a sequence of PEM certificates: {exc}") from exc
    if not certs:
        raise BundleBuildError("TSA chain must contain at least the TSA certificate")
    return [cert.public_bytes(Encoding.PEM).decode("ascii") for cert in certs]


def record_section(facts: RecordFacts, token_der: bytes) -> dict[str, Any]:
    """The signed ``record`` section; its canonical JSON is also the record's leaf in the
    transparency log, so the log commits to exactly what the signature covers."""
    return {
        "id": facts.id,
        "certificate_id": facts.certificate_id,
        "sha256": facts.sha256,
        "filename": facts.filename,
        "file_size_bytes": facts.file_size_bytes,
        "file_type": facts.file_type,
        "created_at": facts.created_at,
        "tsa_token_sha256": sha256_bytes(token_der),
    }


def build_bundle(
    facts: RecordFacts,
    *,
    token_der: bytes,
    tsa_chain_pem: bytes,
    signer: RecordSigner,
    merkle: dict[str, Any] | None = None,
    anchors: list[dict[str, Any]] | None = None,
    log: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble and sign a version-1 proof bundle.

    The token must stamp ``facts.sha256`` with SHA-256; a mismatch means the
    caller wired the wrong token to the record and is refused here rather than
    producing a bundle no verifier would accept.
    """
    try:
        token = parse_timestamp_token(token_der)
    except ProofVerificationError as exc:
        raise BundleBuildError(f"token_der: {exc.message}") from exc
    if token.imprint_algorithm != HASH_ALGORITHM or token.imprint.hex() != facts.sha256:
        raise BundleBuildError("the time-stamp token does not stamp the record's SHA-256 hash")

    record = record_section(facts, token_der)
    signature = signer.sign(canonical_json(record))
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "record": record,
        "hash": {"algorithm": HASH_ALGORITHM, "value": facts.sha256},
        "rfc3161": {"token": _b64(token_der), "chain": _chain_pems(tsa_chain_pem)},
        "signature": {
            "algorithm": SIGNATURE_ALGORITHM,
            "key_name": signer.name,
            "key_id": signer.key_id,
            "public_key": _b64(signer.public_key_raw),
            "signed": SIGNED_SECTION,
            "value": _b64(signature),
        },
        "merkle": merkle,
        "anchors": list(anchors) if anchors is not None else [],
        "log": log,
    }
    # The seal covers everything else, so that no byte of a proof file can change without
    # verification failing, including parts (an external token's unsigned certificate set,
    # say) that no other check binds. It adds no trust in the operator: every section is
    # still checked on its own.
    bundle["seal"] = {
        "algorithm": SIGNATURE_ALGORITHM,
        "value": _b64(signer.sign(canonical_json(bundle))),
    }
    return bundle
