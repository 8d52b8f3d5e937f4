"""Offline verification of proof bundles.

Needs nothing but the bundle, the trust roots of the TSA hierarchy and optionally
the file (or its hash) and the service's public keys. Every failure raises a
``ProofVerificationError`` subclass whose message says exactly what is wrong.
The algorithm is specified step by step in docs/proof-format.md.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from cryptography import x509

from notarium.core.hashing import normalize_sha256_hex, sha256_bytes
from notarium.formats.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    HASH_ALGORITHM,
    SIGNATURE_ALGORITHM,
    SIGNED_SECTION,
    is_lower_hex64,
    is_valid_created_at,
)
from notarium.formats.canonical import MAX_SAFE_INTEGER, canonical_json
from notarium.formats.chain import validate_chain
from notarium.formats.errors import (
    HashMismatchError,
    MalformedProofError,
    RecordSignatureError,
    TokenBindingError,
    UnsupportedProofFormatError,
    UntrustedServiceKeyError,
)
from notarium.formats.rfc3161.token import (
    check_tsa_certificate,
    parse_timestamp_token,
    verify_token_signature,
)
from notarium.formats.signing import signed_note_key_id, verify_ed25519
from notarium.verify.report import Check, Report, Status

AnchorStatus = Literal["verified", "pending", "unchecked"]

RECORD_FIELDS = (
    "id",
    "certificate_id",
    "sha256",
    "filename",
    "file_size_bytes",
    "file_type",
    "created_at",
    "tsa_token_sha256",
)

EXTENSION_SECTIONS = ("merkle", "anchors", "log")


@dataclass(frozen=True)
class AnchorResult:
    """One anchor's outcome: ``verified`` to the end against something the verifier
    trusts, ``pending`` (no attestation yet) or ``unchecked`` (intact, but resting on a
    block header or a root the verifier did not supply)."""

    kind: str
    status: AnchorStatus
    detail: str


@dataclass(frozen=True)
class VerifiedRecord:
    """What has been established once the record, token and chain all check out;
    handed to section verifiers so anchoring proofs can bind to it."""

    record: Mapping[str, Any]
    record_canonical: bytes
    record_signature: bytes
    token_der: bytes
    gen_time: datetime


class SectionVerifier(Protocol):
    """Verifies one reserved section (``merkle``, ``anchors`` or ``log``).

    Returns a human-readable detail for the report; raises a
    ``ProofVerificationError`` subclass if the section does not check out.
    """

    def __call__(
        self, section: Any, verified: VerifiedRecord, bundle: Mapping[str, Any]
    ) -> str | tuple[Status, str]: ...


@dataclass(frozen=True)
class VerificationReport(Report):
    """Outcome of a successful verification (failures raise instead, so no check of it
    is ``failed``)."""

    record_id: str
    certificate_id: str
    sha256: str
    file_hash_checked: bool
    record_signature_valid: bool
    service_key_pinned: bool
    token_valid: bool
    chain_valid: bool
    anchored: bool
    log_included: bool
    gen_time: datetime
    serial: int
    policy: str
    tsa_subject: str
    chain_subjects: tuple[str, ...]
    service_key_name: str
    service_key_id: str
    anchors: tuple[AnchorResult, ...] = ()


def _section(bundle: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    if key not in bundle:
        raise MalformedProofError(f"bundle has no {key!r} section")
    value = bundle[key]
    if not isinstance(value, Mapping):
        raise MalformedProofError(f"bundle {key!r} section must be a JSON object")
    return value


def _string(section: Mapping[str, Any], key: str, where: str) -> str:
    value = section.get(key)
    if not isinstance(value, str):
        raise MalformedProofError(f"{where}.{key} must be a string")
    return value


def _b64(section: Mapping[str, Any], key: str, where: str) -> bytes:
    text = _string(section, key, where)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedProofError(f"{where}.{key} is not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedProofError(f"{where}.{key} is not canonical padded base64")
    return raw


def _check_format(bundle: Mapping[str, Any]) -> None:
    if not isinstance(bundle, Mapping):
        raise MalformedProofError("a proof bundle must be a JSON object")
    fmt = bundle.get("format")
    if fmt != BUNDLE_FORMAT:
        raise UnsupportedProofFormatError(
            f"not a notarium proof: format is {fmt!r}, expected {BUNDLE_FORMAT!r}"
        )
    version = bundle.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise UnsupportedProofFormatError(f"proof version must be an integer, got {version!r}")
    if version != BUNDLE_VERSION:
        raise UnsupportedProofFormatError(
            f"unsupported proof version {version}; this verifier understands version "
            f"{BUNDLE_VERSION} only"
        )


def _check_record(record: Mapping[str, Any]) -> None:
    keys = set(record)
    missing = [k for k in RECORD_FIELDS if k not in keys]
    if missing:
        raise MalformedProofError(f"record is missing {', '.join(missing)}")
    extra = sorted(keys - set(RECORD_FIELDS))
    if extra:
        raise MalformedProofError(
            f"record has fields this version does not define: {', '.join(extra)}"
        )
    for key in ("id", "certificate_id", "filename", "created_at"):
        _string(record, key, "record")
    for key in ("sha256", "tsa_token_sha256"):
        if not is_lower_hex64(_string(record, key, "record")):
            raise MalformedProofError(f"record.{key} must be 64 lowercase hex characters")
    size = record["file_size_bytes"]
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SAFE_INTEGER:
        raise MalformedProofError("record.file_size_bytes must be a non-negative integer")
    if record["file_type"] is not None and not isinstance(record["file_type"], str):
        raise MalformedProofError("record.file_type must be a string or null")
    if not is_valid_created_at(record["created_at"]):
        raise MalformedProofError(
            "record.created_at must be RFC 3339 UTC with milliseconds, e.g. "
            "2026-01-31T12:34:56.789Z"
        )


def _load_chain(rfc3161: Mapping[str, Any]) -> list[x509.Certificate]:
    chain = rfc3161.get("chain")
    if not isinstance(chain, list):
        raise MalformedProofError("rfc3161.chain must be a list of PEM strings")
    certs = []
    for i, pem in enumerate(chain):
        if not isinstance(pem, str):
            raise MalformedProofError(f"rfc3161.chain[{i}] must be a PEM string")
        try:
            certs.append(x509.load_pem_x509_certificate(pem.encode("ascii")))
        except (ValueError, UnicodeEncodeError) as exc:
            raise MalformedProofError(f"rfc3161.chain[{i}] is not a PEM certificate") from exc
    return certs


def _is_empty_section(name: str, value: Any) -> bool:
    return value is None or (name == "anchors" and value == [])


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise MalformedProofError(f"bundle JSON repeats the key {key!r}")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> Any:
    raise MalformedProofError(f"bundle JSON contains {name}, which is not valid JSON")


def load_bundle(data: bytes | str) -> dict[str, Any]:
    """Parse bundle JSON strictly: duplicate keys would let two readers of the same
    file see different records, so they are refused rather than resolved."""
    try:
        value = json.loads(
            data, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedProofError(f"bundle is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise MalformedProofError("a proof bundle must be a JSON object")
    return value


def verify_bundle(
    bundle: Mapping[str, Any],
    *,
    sha256: str | None = None,
    trust_roots: Sequence[x509.Certificate],
    service_public_keys: Sequence[bytes] = (),
    section_verifiers: Mapping[str, SectionVerifier] | None = None,
) -> VerificationReport:
    """Verify a proof bundle; return a report or raise ``ProofVerificationError``.

    ``sha256`` is the hash of the file the user holds; without it, only the
    bundle's internal consistency and provenance are checked. ``trust_roots``
    are the TSA hierarchy's root certificates. When ``service_public_keys`` is
    given, the record must be signed by one of them. ``section_verifiers``
    supplies checkers for the reserved ``merkle``/``anchors``/``log`` sections.
    """
    checks: list[Check] = []

    # 1. Format and version.
    _check_format(bundle)
    checks.append(Check("format", "passed", f"{BUNDLE_FORMAT} version {BUNDLE_VERSION}"))

    # 2. Structure.
    record = _section(bundle, "record")
    _check_record(record)
    hash_section = _section(bundle, "hash")
    rfc3161 = _section(bundle, "rfc3161")
    signature = _section(bundle, "signature")
    if _string(hash_section, "algorithm", "hash") != HASH_ALGORITHM:
        raise MalformedProofError(f"hash.algorithm must be {HASH_ALGORITHM!r}")
    if _string(hash_section, "value", "hash") != record["sha256"]:
        raise MalformedProofError("hash.value differs from record.sha256")
    token_der = _b64(rfc3161, "token", "rfc3161")
    chain = _load_chain(rfc3161)
    if _string(signature, "algorithm", "signature") != SIGNATURE_ALGORITHM:
        raise MalformedProofError(f"signature.algorithm must be {SIGNATURE_ALGORITHM!r}")
    if _string(signature, "signed", "signature") != SIGNED_SECTION:
        raise MalformedProofError(f"signature.signed must be {SIGNED_SECTION!r}")
    key_name = _string(signature, "key_name", "signature")
    if not key_name or any(c.isspace() or c == "+" for c in key_name):
        # It names a signed-note key (and the log, <key_name>/log), which cannot hold these.
        raise MalformedProofError("signature.key_name must be non-empty, without whitespace or '+'")
    key_id = _string(signature, "key_id", "signature")
    public_key = _b64(signature, "public_key", "signature")
    signature_value = _b64(signature, "value", "signature")
    checks.append(Check("structure", "passed", "all required fields present and well-formed"))

    # 3. The user's file.
    record_hash: str = record["sha256"]
    if sha256 is not None:
        given = normalize_sha256_hex(sha256)
        if not hmac.compare_digest(given, record_hash):
            raise HashMismatchError(
                f"the file's SHA-256 {given} does not match the hash this proof is "
                f"about ({record_hash}): this proof is for a different file"
            )
        checks.append(Check("file_hash", "passed", "file hash equals record.sha256"))
    else:
        checks.append(Check("file_hash", "skipped", "no file or hash was given to compare"))

    # 4. The service's signature over the record.
    if len(public_key) != 32:
        raise MalformedProofError("signature.public_key must be a 32-byte Ed25519 key")
    if signed_note_key_id(key_name, public_key) != key_id:
        raise RecordSignatureError(
            f"signature.key_id {key_id!r} is not the key id of key {key_name!r} "
            "with the given public key"
        )
    record_canonical = canonical_json(dict(record))
    if not verify_ed25519(public_key, signature_value, record_canonical):
        raise RecordSignatureError(
            "the Ed25519 signature over the record does not verify with "
            f"signature.public_key (key {key_name!r}, id {key_id}): the record was "
            "altered or signed by another key"
        )
    checks.append(Check("record_signature", "passed", f"Ed25519 by {key_name} ({key_id})"))
    if service_public_keys:
        if not any(hmac.compare_digest(public_key, k) for k in service_public_keys):
            raise UntrustedServiceKeyError(
                f"the record is signed by key {key_name!r} (id {key_id}), which is not "
                "one of the service public keys you trust"
            )
        checks.append(Check("service_key", "passed", "signing key is a trusted service key"))
    else:
        checks.append(
            Check("service_key", "skipped", "no service public keys given; key not pinned")
        )

    # 5. The token is the one the record names, and stamps the record's hash.
    token_hash = sha256_bytes(token_der)
    if token_hash != record["tsa_token_sha256"]:
        raise TokenBindingError(
            f"the time-stamp token's SHA-256 {token_hash} differs from "
            f"record.tsa_token_sha256 {record['tsa_token_sha256']}: the token was "
            "replaced or altered"
        )
    token = parse_timestamp_token(token_der)
    if token.imprint_algorithm != HASH_ALGORITHM:
        raise TokenBindingError(
            f"the time-stamp token imprint uses {token.imprint_algorithm}, expected sha256"
        )
    if token.imprint.hex() != record_hash:
        raise TokenBindingError(
            f"the time-stamp token stamps {token.imprint.hex()}, not the record's "
            f"hash {record_hash}"
        )
    checks.append(Check("token_binding", "passed", "token matches record and stamps its hash"))

    # 6. The token's CMS signature and the TSA certificate.
    signer = verify_token_signature(token, chain)
    checks.append(
        Check("token_signature", "passed", "CMS signature, messageDigest, contentType, ESS")
    )
    check_tsa_certificate(signer)
    checks.append(Check("tsa_certificate", "passed", "EKU is exactly critical timeStamping"))

    # 7. The TSA certificate chains to a trust root, judged at genTime.
    path = validate_chain(signer, [*token.certificates, *chain], trust_roots, token.gen_time)
    checks.append(
        Check(
            "chain",
            "passed",
            f"valid at genTime {token.gen_time.isoformat()} up to "
            f"{path[-1].subject.rfc4514_string()}",
        )
    )

    # 8. Reserved sections for the anchoring layer.
    verified = VerifiedRecord(
        record=record,
        record_canonical=record_canonical,
        record_signature=signature_value,
        token_der=token_der,
        gen_time=token.gen_time,
    )
    verifiers = section_verifiers or {}
    passed: set[str] = set()
    for name in EXTENSION_SECTIONS:
        value = bundle.get(name)
        if _is_empty_section(name, value):
            checks.append(Check(name, "absent", "not yet anchored"))
            continue
        section_verifier = verifiers.get(name)
        if section_verifier is None:
            checks.append(
                Check(name, "skipped", "present but not checked: no verifier for this section")
            )
            continue
        result = section_verifier(value, verified, bundle)
        # A verifier may report "pending": well-formed evidence that cannot be checked
        # to the end yet (an attestation still waiting, or no header to check it with).
        status, detail = result if isinstance(result, tuple) else ("passed", result)
        checks.append(Check(name, status, detail))
        if status == "passed":
            passed.add(name)

    return VerificationReport(
        record_id=record["id"],
        certificate_id=record["certificate_id"],
        sha256=record_hash,
        file_hash_checked=sha256 is not None,
        record_signature_valid=True,
        service_key_pinned=bool(service_public_keys),
        token_valid=True,
        chain_valid=True,
        anchored={"merkle", "anchors"} <= passed,
        log_included="log" in passed,
        gen_time=token.gen_time,
        serial=token.serial_number,
        policy=token.policy,
        tsa_subject=signer.subject.rfc4514_string(),
        chain_subjects=tuple(c.subject.rfc4514_string() for c in path),
        service_key_name=key_name,
        service_key_id=key_id,
        checks=tuple(checks),
    )
