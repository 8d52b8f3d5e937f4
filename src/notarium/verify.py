"""Offline verification of a proof file: ``notarium.verify.verify_proof``.

On top of the record, token, chain and signature checks of ``notarium.proofs.verify``,
this checks the anchoring sections: the Merkle path to the batch root, every anchor
(OpenTimestamps up to a Bitcoin block header, a Bitcoin OP_RETURN transaction, external
RFC 3161 tokens), and the transparency-log inclusion against its signed checkpoint.

A proof file must be byte-for-byte its own canonical JSON, and every object must have
exactly the keys the format defines, so that no byte of a proof is without meaning:
change any one and verification fails.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.anchoring.bitcoin_proof import verify_op_return_anchor
from notarium.anchoring.ots_files import inspect_detached, nodes_for, verify_detached
from notarium.anchoring.rfc3161 import verify_external_token
from notarium.errors import NotariumError, ProofVerificationError
from notarium.merkle import MalformedLeafProofError, proof_from_json, root_from_proof
from notarium.proofs.canonical import canonical_json
from notarium.proofs.chain import validate_chain
from notarium.proofs.errors import MalformedProofError
from notarium.proofs.rfc3161 import parse_timestamp_token, verify_token_signature
from notarium.proofs.signing import verify_ed25519
from notarium.proofs.verify import (
    CheckStatus,
    VerificationReport,
    VerifiedRecord,
    load_bundle,
    verify_bundle,
)
from notarium.translog.note import verifier_key_text
from notarium.translog.tlogproof import parse_tlog_proof, verify_tlog_proof

HeaderSource = Callable[[int], bytes | None]
"""Height → the 80-byte Bitcoin block header from a source the verifier trusts."""

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
BITCOIN_PROOF_KEYS = {
    "txid",
    "raw_tx",
    "height",
    "block_hash",
    "header",
    "tx_index",
    "merkle_branch",
}
ANCHOR_KEYS = {
    "ots": {"kind", "ots"},
    "bitcoin": {"kind", "prefix", "proof"},
    "rfc3161": {"kind", "subject", "token"},
}


_LOWER_HEX = re.compile(r"(?:[0-9a-f]{2})+")


class NonCanonicalProofError(MalformedProofError):
    code = "PROOF_NOT_CANONICAL"


class SealError(ProofVerificationError):
    code = "PROOF_SEAL_INVALID"


class AnchorVerificationError(ProofVerificationError):
    code = "ANCHOR_INVALID"


@dataclass(frozen=True)
class BlockHeaders:
    """Where Bitcoin headers come from: a node (by height) and/or headers given by hand
    (matched by their Merkle root). Without either, Bitcoin attestations stay unchecked."""

    by_height: HeaderSource | None = None
    given: tuple[bytes, ...] = ()

    @property
    def available(self) -> bool:
        return self.by_height is not None or bool(self.given)

    def for_attestation(self, height: int, merkle_root: bytes) -> bytes | None:
        if self.by_height is not None:
            return self.by_height(height)
        for header in self.given:
            if len(header) == 80 and header[36:68] == merkle_root:
                return header
        return None


def _exact(value: Any, keys: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedProofError(f"{where} must be a JSON object")
    if set(value) != keys:
        raise MalformedProofError(
            f"{where} must have exactly the keys {sorted(keys)}, has {sorted(value)}"
        )
    return value


def _b64(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedProofError(f"{where} must be a base64 string")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedProofError(f"{where} is not base64") from None
    if base64.b64encode(data).decode("ascii") != value:
        raise MalformedProofError(f"{where} is not canonical base64")
    return data


def _hex(value: Any, size: int, where: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size or value != value.lower():
        raise MalformedProofError(f"{where} must be {size} bytes as lowercase hex")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise MalformedProofError(f"{where} must be {size} bytes as lowercase hex") from None


def _check_structure(bundle: Mapping[str, Any]) -> None:
    _exact(bundle, TOP_KEYS, "the proof")
    for name, keys in SECTION_KEYS.items():
        _exact(bundle[name], keys, name)
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


@dataclass
class _AnchorVerifier:
    trust_roots: Sequence[x509.Certificate]
    headers: BlockHeaders

    def __call__(
        self, section: Any, verified: VerifiedRecord, bundle: Mapping[str, Any]
    ) -> tuple[CheckStatus, str]:
        root = _merkle_root(bundle.get("merkle"), verified)
        anchors = section
        if not isinstance(anchors, list) or not anchors:
            raise MalformedProofError("anchors must be a non-empty list once merkle is set")
        digest = bytes.fromhex(verified.record["sha256"])
        details = []
        # Passed only if at least one anchor was checked to the end against something
        # the verifier trusts; otherwise the evidence is well formed but pending.
        independent = False
        for index, anchor in enumerate(anchors):
            where = f"anchors[{index}]"
            if not isinstance(anchor, dict) or anchor.get("kind") not in ANCHOR_KEYS:
                raise MalformedProofError(f"{where} has an unknown kind")
            kind = anchor["kind"]
            _exact(anchor, ANCHOR_KEYS[kind], where)
            if kind == "ots":
                checked, detail = self._ots(_b64(anchor["ots"], f"{where}.ots"), digest, root)
            elif kind == "bitcoin":
                checked, detail = self._bitcoin(anchor, root, where)
            else:
                checked, detail = True, self._external(anchor, root, digest, where)
            independent = independent or checked
            details.append(detail)
        return ("passed" if independent else "pending"), "; ".join(details)

    def _external(self, anchor: Mapping[str, Any], root: bytes, digest: bytes, where: str) -> str:
        token = _b64(anchor["token"], f"{where}.token")
        subject = {"root": root, "record": digest}.get(anchor["subject"])
        if subject is None:
            raise MalformedProofError(f"{where}.subject must be 'root' or 'record'")
        gen_time = verify_external_token(token, subject, self.trust_roots)
        signer = _only_path_certificates(token, self.trust_roots, where)
        return (
            f"RFC 3161 token over the {anchor['subject']} at {gen_time.isoformat()} "
            f"by {signer.subject.rfc4514_string()}"
        )

    def _ots(self, data: bytes, digest: bytes, root: bytes) -> tuple[bool, str]:
        summary = inspect_detached(data, file_digest=digest)
        if summary.hash_op != "sha256":
            raise AnchorVerificationError("the .ots proof must hash the file with SHA-256")
        if not _passes_through(data, root):
            raise AnchorVerificationError("the .ots proof does not pass through merkle.root")
        if not summary.bitcoin:
            return False, f"OpenTimestamps pending at {', '.join(summary.pending)}"
        if not self.headers.available:
            heights = ", ".join(str(a.height) for a in summary.bitcoin)
            return False, (
                f"OpenTimestamps Bitcoin attestation at height {heights} (no header to check)"
            )
        verified = verify_detached(
            data,
            digest,
            lambda height: self.headers.for_attestation(
                height, _digest_at(summary.bitcoin, height)
            ),
        )
        if len(verified) != len(summary.bitcoin):
            raise AnchorVerificationError(
                "a Bitcoin attestation of the .ots proof has no matching block header"
            )
        first = min(verified, key=lambda v: v.height)
        return True, (
            f"OpenTimestamps: Bitcoin block {first.height} ({first.block_time.isoformat()})"
        )

    def _bitcoin(self, anchor: Mapping[str, Any], root: bytes, where: str) -> tuple[bool, str]:
        prefix = anchor["prefix"]
        if not isinstance(prefix, str) or not _LOWER_HEX.fullmatch(prefix):
            raise MalformedProofError(f"{where}.prefix must be lowercase hex")
        proof = _exact(anchor["proof"], BITCOIN_PROOF_KEYS, f"{where}.proof")
        claimed = _hex(proof["header"], 80, f"{where}.proof.header")
        height = proof["height"]
        checked = False
        source = "header in the proof, not independently checked"
        if self.headers.by_height is not None:
            trusted = self.headers.by_height(height) if isinstance(height, int) else None
            if trusted is None or trusted != claimed:
                raise AnchorVerificationError(
                    f"{where}: the block header in the proof is not the node's block at "
                    f"height {height}"
                )
            checked, source = True, "header checked against the node"
        elif self.headers.given:
            if claimed not in self.headers.given:
                raise AnchorVerificationError(
                    f"{where}: the block header in the proof is none of the headers given"
                )
            checked, source = True, "header matches one given"
        block_time = verify_op_return_anchor(proof, root, bytes.fromhex(prefix), claimed)
        return checked, (
            f"Bitcoin OP_RETURN in block {height} at {block_time.isoformat()} ({source})"
        )


def _only_path_certificates(
    token_der: bytes, trust_roots: Sequence[x509.Certificate], where: str
) -> x509.Certificate:
    """A token's certificate set is not covered by its signature, so a certificate the
    chain does not use could be altered unnoticed; such extras are refused."""
    token = parse_timestamp_token(token_der)
    signer = verify_token_signature(token, ())
    path = validate_chain(signer, token.certificates, trust_roots, token.gen_time)
    used = {cert.public_bytes(Encoding.DER) for cert in path}
    for cert in token.certificates:
        if cert.public_bytes(Encoding.DER) not in used:
            raise AnchorVerificationError(
                f"{where}: the token carries a certificate its chain does not use "
                f"({cert.subject.rfc4514_string()})"
            )
    return signer


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


def _digest_at(attestations: Sequence[Any], height: int) -> bytes:
    for attestation in attestations:
        if attestation.height == height:
            return bytes(attestation.digest)
    return b""


def _passes_through(data: bytes, root: bytes) -> bool:
    from opentimestamps.core.serialize import BytesDeserializationContext
    from opentimestamps.core.timestamp import DetachedTimestampFile

    detached = DetachedTimestampFile.deserialize(BytesDeserializationContext(data))
    return bool(nodes_for(detached.timestamp, root))


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
    report = verify_bundle(
        bundle,
        sha256=sha256,
        trust_roots=trust_roots,
        service_public_keys=service_public_keys,
        section_verifiers={
            "merkle": _verify_merkle,
            "anchors": _AnchorVerifier(trust_roots, headers or BlockHeaders()),
            "log": _verify_log,
        },
    )
    _chain_is_all_used(bundle, trust_roots)
    _check_seal(bundle)
    return report
