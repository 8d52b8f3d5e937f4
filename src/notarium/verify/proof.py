"""Offline verification of a proof file: ``verify_proof``, public as
``notarium.verify.verify_proof``.

On top of the record, token, chain and signature checks of ``notarium.verify.bundle``,
this checks the anchoring sections: the Merkle path to the batch root, every anchor
(OpenTimestamps up to a Bitcoin block header, a Bitcoin OP_RETURN transaction, external
RFC 3161 tokens), and the transparency-log inclusion against its signed checkpoint.

A proof file must be byte-for-byte its own canonical JSON, and every object must have
exactly the keys the format defines, so that no byte of a proof is without meaning:
change any one and verification fails.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.core.errors import NotariumError, ProofVerificationError
from notarium.core.hashing import normalize_sha256_hex
from notarium.formats.canonical import canonical_json
from notarium.formats.chain import validate_chain
from notarium.formats.errors import MalformedProofError
from notarium.formats.merkle import MalformedLeafProofError, proof_from_json, root_from_proof
from notarium.formats.rfc3161.token import parse_timestamp_token, verify_token_signature
from notarium.formats.signing import verify_ed25519
from notarium.formats.tlog.note import verifier_key_text
from notarium.formats.tlog.tlogproof import parse_tlog_proof, verify_tlog_proof
from notarium.verify.anchors import (
    AnchorVerificationError,
    AnchorVerifier,
    BlockHeaders,
    b64,
    exact,
    lower_hex,
)
from notarium.verify.bundle import (
    VerificationReport,
    VerifiedRecord,
    load_bundle,
    verify_bundle,
)

TOP_KEYS = {
    "format",
    "version",
    "record",
    "hash",
    "rfc3161",
    "signature",
    "merkle",
    "anchors",
    "log",
    "seal",
}
SECTION_KEYS = {
    "hash": {"algorithm", "value"},
    "rfc3161": {"token", "chain"},
    "signature": {"algorithm", "key_name", "key_id", "public_key", "signed", "value"},
    "seal": {"algorithm", "value"},
}


class NonCanonicalProofError(MalformedProofError):
    code = "PROOF_NOT_CANONICAL"


class SealError(ProofVerificationError):
    code = "PROOF_SEAL_INVALID"


_exact = exact
_b64 = b64


def _hex(value: Any, size: int, where: str) -> bytes:
    return lower_hex(value, size, where)


def _check_structure(bundle: Mapping[str, Any]) -> None:
    _exact(bundle, TOP_KEYS, "the proof")
    for name, keys in SECTION_KEYS.items():
        _exact(bundle[name], keys, name)
    if not isinstance(bundle["anchors"], list):
        raise MalformedProofError("anchors must be a list ([] when there are none)")
    for name in ("merkle", "log"):
        if bundle[name] is not None and not isinstance(bundle[name], dict):
            raise MalformedProofError(f"{name} must be an object or null")
    chain = bundle["rfc3161"]["chain"]
    if not isinstance(chain, list):
        raise MalformedProofError("rfc3161.chain must be a list")
    for index, pem in enumerate(chain):
        try:
            cert = x509.load_pem_x509_certificate(str(pem).encode())
        except ValueError:
            raise MalformedProofError(f"rfc3161.chain[{index}] is not a certificate") from None
        if cert.public_bytes(Encoding.PEM).decode("ascii") != pem:
            raise MalformedProofError(f"rfc3161.chain[{index}] is not canonical PEM")


def _merkle_root(merkle: Any, verified: VerifiedRecord) -> bytes:
    section = _exact(merkle, {"root", "leaf"}, "merkle")
    root = _hex(section["root"], 32, "merkle.root")
    try:
        leaf = proof_from_json(section["leaf"])
    except MalformedLeafProofError as exc:
        raise MalformedProofError(f"merkle.leaf: {exc.message}") from exc
    if leaf.digest.hex() != verified.record["sha256"]:
        raise AnchorVerificationError("merkle.leaf starts from another hash than the record's")
    if root_from_proof(leaf) != root:
        raise AnchorVerificationError("the Merkle path does not lead to merkle.root")
    return root


def _chain_is_all_used(bundle: Mapping[str, Any], trust_roots: Sequence[x509.Certificate]) -> None:
    """Every certificate the proof ships must be one the validated path uses: nothing
    else in it is signed, so anything else could be changed unnoticed."""
    token = parse_timestamp_token(base64.b64decode(bundle["rfc3161"]["token"]))
    chain = [x509.load_pem_x509_certificate(pem.encode()) for pem in bundle["rfc3161"]["chain"]]
    signer = verify_token_signature(token, chain)
    path = validate_chain(signer, [*token.certificates, *chain], trust_roots, token.gen_time)
    used = {cert.public_bytes(Encoding.DER) for cert in path}
    for index, cert in enumerate(chain):
        if cert.public_bytes(Encoding.DER) not in used:
            raise MalformedProofError(
                f"rfc3161.chain[{index}] ({cert.subject.rfc4514_string()}) is not part of the "
                "validated chain"
            )


def _check_seal(bundle: Mapping[str, Any]) -> None:
    """Last, so that a specific check names a problem first where one can."""
    seal = bundle["seal"]
    if seal["algorithm"] != "ed25519":
        raise MalformedProofError("seal.algorithm must be 'ed25519'")
    sealed = {key: value for key, value in bundle.items() if key != "seal"}
    public_key = base64.b64decode(bundle["signature"]["public_key"])
    if not verify_ed25519(public_key, _b64(seal["value"], "seal.value"), canonical_json(sealed)):
        raise SealError("the seal over the proof does not verify: the file was altered")


def _verify_merkle(section: Any, verified: VerifiedRecord, bundle: Mapping[str, Any]) -> str:
    return f"path to batch root {_merkle_root(section, verified).hex()}"


def _verify_log(section: Any, verified: VerifiedRecord, bundle: Mapping[str, Any]) -> str:
    text = _exact(section, {"tlog_proof"}, "log")["tlog_proof"]
    if not isinstance(text, str):
        raise MalformedProofError("log.tlog_proof must be a string")
    parsed = parse_tlog_proof(text)
    # The log is the service's: its origin is the record key's name plus "/log", and its
    # checkpoints are signed by the same key under that name.
    origin = f"{bundle['signature']['key_name']}/log"
    public_key = base64.b64decode(bundle["signature"]["public_key"])
    checkpoint = verify_tlog_proof(
        text, verified.record_canonical, verifier_key_text(origin, public_key), origin
    )
    return f"leaf {parsed.index} of {checkpoint.size} in log {checkpoint.origin}"


def verify_proof(
    data: bytes,
    *,
    sha256: str | None,
    trust_roots: Sequence[x509.Certificate],
    service_public_keys: Sequence[bytes] = (),
    headers: BlockHeaders | None = None,
) -> VerificationReport:
    """Verify a proof file's bytes; raises a ``ProofVerificationError`` naming the first
    check that failed."""
    if sha256 is not None:
        # The caller's input, not the proof: a bad hash is the caller's error.
        sha256 = normalize_sha256_hex(sha256)
    try:
        return _verify_proof(data, sha256, trust_roots, service_public_keys, headers)
    except ProofVerificationError:
        raise
    except NotariumError as exc:
        # Input-shaped errors from the parsers (a float where an integer belongs, a key
        # name no note can carry) are proof defects here.
        raise MalformedProofError(f"malformed proof: {exc.message}") from exc
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # Hostile input must end in a verdict, never a crash; the specific checks above
        # name what they catch, and this names whatever slipped past them.
        raise MalformedProofError(f"malformed proof: {type(exc).__name__}: {exc}") from exc


def _verify_proof(
    data: bytes,
    sha256: str | None,
    trust_roots: Sequence[x509.Certificate],
    service_public_keys: Sequence[bytes],
    headers: BlockHeaders | None,
) -> VerificationReport:
    bundle = load_bundle(data)
    if canonical_json(bundle) != data:
        raise NonCanonicalProofError(
            "the proof file is not in canonical form (RFC 8785 JSON, no extra bytes)"
        )
    _check_structure(bundle)
    anchors = AnchorVerifier(trust_roots, headers or BlockHeaders(), _merkle_root)
    report = verify_bundle(
        bundle,
        sha256=sha256,
        trust_roots=trust_roots,
        service_public_keys=service_public_keys,
        section_verifiers={
            "merkle": _verify_merkle,
            "anchors": anchors,
            "log": _verify_log,
        },
    )
    _chain_is_all_used(bundle, trust_roots)
    _check_seal(bundle)
    return replace(report, anchors=tuple(anchors.results))
