"""The ``anchors`` section of a proof: each anchor checked, and reported as ``verified``,
``pending`` or ``unchecked``.

An anchor that is well formed and intact but cannot be checked to the end with what the
verifier holds (a calendar's promise not yet in a block, a Bitcoin attestation without a
header to check it against, an external token whose root the verifier does not trust)
is reported, never fatal: a proof that verified must not stop verifying because it has
gained evidence. Anything altered or inconsistent still fails.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from notarium.core.errors import ProofVerificationError
from notarium.formats.bitcoin_proof import AMBIGUOUS_TX_SIZE, verify_op_return_anchor
from notarium.formats.errors import MalformedProofError
from notarium.formats.ots import MAX_OTS_SIZE, inspect_detached, nodes_for, verify_detached
from notarium.formats.rfc3161.external import check_external_anchor
from notarium.verify.bundle import AnchorResult, AnchorStatus, VerifiedRecord
from notarium.verify.report import Status

HeaderSource = Callable[[int], bytes | None]
"""Height → the 80-byte Bitcoin block header from a source the verifier trusts."""

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
    "rfc3161": {"kind", "subject", "token", "chain"},
}

_LOWER_HEX = re.compile(r"(?:[0-9a-f]{2})+")


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


def exact(value: Any, keys: set[str], where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedProofError(f"{where} must be a JSON object")
    if set(value) != keys:
        raise MalformedProofError(
            f"{where} must have exactly the keys {sorted(keys)}, has {sorted(value)}"
        )
    return value


def b64(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedProofError(f"{where} must be a base64 string")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedProofError(f"{where} is not base64") from None
    if base64.b64encode(data).decode("ascii") != value:
        raise MalformedProofError(f"{where} is not canonical base64")
    return data


def lower_hex(value: Any, size: int | None, where: str) -> bytes:
    if not isinstance(value, str) or not _LOWER_HEX.fullmatch(value):
        raise MalformedProofError(f"{where} must be lowercase hex of whole bytes")
    if size is not None and len(value) != 2 * size:
        raise MalformedProofError(f"{where} must be {size} bytes as lowercase hex")
    return bytes.fromhex(value)


def pem_certificates(value: Any, where: str) -> list[x509.Certificate]:
    """A list of certificates in exactly the PEM form notarium writes."""
    if not isinstance(value, list):
        raise MalformedProofError(f"{where} must be a list of PEM certificates")
    certs = []
    for index, pem in enumerate(value):
        if not isinstance(pem, str):
            raise MalformedProofError(f"{where}[{index}] must be a PEM string")
        try:
            cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise MalformedProofError(f"{where}[{index}] is not a certificate") from None
        if cert.public_bytes(Encoding.PEM).decode("ascii") != pem:
            raise MalformedProofError(f"{where}[{index}] is not canonical PEM")
        certs.append(cert)
    return certs


def _non_negative_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedProofError(f"{where} must be a non-negative integer")
    return value


@dataclass
class AnchorVerifier:
    """The section verifier for ``anchors``; keeps each anchor's result for the report."""

    trust_roots: Sequence[x509.Certificate]
    headers: BlockHeaders
    merkle_root: Callable[[Any, VerifiedRecord], bytes]
    results: list[AnchorResult] = field(default_factory=list)

    def __call__(
        self, section: Any, verified: VerifiedRecord, bundle: Mapping[str, Any]
    ) -> tuple[Status, str]:
        root = self.merkle_root(bundle.get("merkle"), verified)
        if not isinstance(section, list) or not section:
            raise MalformedProofError("anchors must be a non-empty list once merkle is set")
        digest = bytes.fromhex(verified.record["sha256"])
        self.results = []
        for index, anchor in enumerate(section):
            where = f"anchors[{index}]"
            if not isinstance(anchor, dict) or anchor.get("kind") not in ANCHOR_KEYS:
                raise MalformedProofError(f"{where} has an unknown kind")
            kind = anchor["kind"]
            exact(anchor, ANCHOR_KEYS[kind], where)
            if kind == "ots":
                result = self._ots(b64(anchor["ots"], f"{where}.ots"), digest, root)
            elif kind == "bitcoin":
                result = self._bitcoin(anchor, root, where)
            else:
                result = self._external(anchor, root, digest, where)
            self.results.append(result)
        # The section passes only if at least one anchor was checked to the end against
        # something the verifier trusts; otherwise its evidence is well formed but pending.
        verified_any = any(r.status == "verified" for r in self.results)
        details = "; ".join(
            r.detail if r.status == "verified" else f"{r.detail} [{r.status}]" for r in self.results
        )
        return ("passed" if verified_any else "pending"), details

    def _external(
        self, anchor: Mapping[str, Any], root: bytes, digest: bytes, where: str
    ) -> AnchorResult:
        token = b64(anchor["token"], f"{where}.token")
        subject = {"root": root, "record": digest}.get(anchor["subject"])
        if subject is None:
            raise MalformedProofError(f"{where}.subject must be 'root' or 'record'")
        chain = pem_certificates(anchor["chain"], f"{where}.chain")
        check = check_external_anchor(token, subject, chain, self.trust_roots)
        signer = check.signer.subject.rfc4514_string()
        detail = (
            f"RFC 3161 token over the {anchor['subject']} at {check.gen_time.isoformat()} "
            f"by {signer}"
        )
        if check.trusted:
            return AnchorResult("rfc3161", "verified", detail)
        top = check.path[-1].subject.rfc4514_string()
        return AnchorResult(
            "rfc3161", "unchecked", f"{detail} (its root {top} is not among the trusted roots)"
        )

    def _ots(self, data: bytes, digest: bytes, root: bytes) -> AnchorResult:
        detached = _strict_detached(data)
        summary = inspect_detached(data, file_digest=digest)
        if not nodes_for(detached.timestamp, root):
            raise AnchorVerificationError("the .ots proof does not pass through merkle.root")
        if not summary.bitcoin:
            return AnchorResult(
                "ots", "pending", f"OpenTimestamps pending at {', '.join(summary.pending)}"
            )
        if not self.headers.available:
            heights = ", ".join(str(a.height) for a in summary.bitcoin)
            return AnchorResult(
                "ots",
                "unchecked",
                f"OpenTimestamps Bitcoin attestation at height {heights} (no header to check)",
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
        return AnchorResult(
            "ots",
            "verified",
            f"OpenTimestamps: Bitcoin block {first.height} ({first.block_time.isoformat()})",
        )

    def _bitcoin(self, anchor: Mapping[str, Any], root: bytes, where: str) -> AnchorResult:
        prefix = lower_hex(anchor["prefix"], None, f"{where}.prefix")
        proof = exact(anchor["proof"], BITCOIN_PROOF_KEYS, f"{where}.proof")
        claimed = lower_hex(proof["header"], 80, f"{where}.proof.header")
        lower_hex(proof["txid"], 32, f"{where}.proof.txid")
        lower_hex(proof["block_hash"], 32, f"{where}.proof.block_hash")
        raw = lower_hex(proof["raw_tx"], None, f"{where}.proof.raw_tx")
        height = _non_negative_int(proof["height"], f"{where}.proof.height")
        _non_negative_int(proof["tx_index"], f"{where}.proof.tx_index")
        branch = proof["merkle_branch"]
        if not isinstance(branch, list):
            raise MalformedProofError(f"{where}.proof.merkle_branch must be a list")
        for i, sibling in enumerate(branch):
            lower_hex(sibling, 32, f"{where}.proof.merkle_branch[{i}]")
        _without_witness(raw, f"{where}.proof.raw_tx")
        status: AnchorStatus = "unchecked"
        source = "header in the proof, not independently checked"
        if self.headers.by_height is not None:
            trusted = self.headers.by_height(height)
            if trusted is None or trusted != claimed:
                raise AnchorVerificationError(
                    f"{where}: the block header in the proof is not the node's block at "
                    f"height {height}"
                )
            status, source = "verified", "header checked against the node"
        elif self.headers.given:
            if claimed not in self.headers.given:
                raise AnchorVerificationError(
                    f"{where}: the block header in the proof is none of the headers given"
                )
            status, source = "verified", "header matches one given"
        block_time = verify_op_return_anchor(proof, root, prefix, claimed)
        return AnchorResult(
            "bitcoin",
            status,
            f"Bitcoin OP_RETURN in block {height} at {block_time.isoformat()} ({source})",
        )


def _without_witness(raw: bytes, where: str) -> None:
    """``raw_tx`` is the serialisation the txid hashes (no witness), so that the 64-byte
    rule of CVE-2017-12842 applies to exactly the bytes a block's Merkle tree holds."""
    from bitcoin.core import CTransaction

    if len(raw) == AMBIGUOUS_TX_SIZE:
        return  # refused, with its own reason, by verify_op_return_anchor
    try:
        tx = CTransaction.deserialize(raw)
    except Exception:
        return  # reported as not a transaction by verify_op_return_anchor
    if tx.has_witness():
        raise MalformedProofError(
            f"{where} carries witness data; it must be the serialisation without witness"
        )


def _strict_detached(data: bytes) -> Any:
    """The ``.ots`` file, held to the format's profile: SHA-256 of the file, no bytes
    after the timestamp, and only the operations and attestations that notarium's trees
    and Bitcoin calendars use, so that a verifier written from the format document can
    replay every step."""
    from opentimestamps.core.notary import BitcoinBlockHeaderAttestation, PendingAttestation
    from opentimestamps.core.op import OpAppend, OpPrepend, OpSHA256
    from opentimestamps.core.serialize import BytesDeserializationContext, DeserializationError
    from opentimestamps.core.timestamp import DetachedTimestampFile

    if len(data) > MAX_OTS_SIZE:
        raise MalformedProofError(f"the .ots proof is larger than {MAX_OTS_SIZE} bytes")
    ctx = BytesDeserializationContext(data)
    try:
        detached = DetachedTimestampFile.deserialize(ctx)
        ctx.assert_eof()
    except (DeserializationError, ValueError, TypeError, RecursionError) as exc:
        raise MalformedProofError(f"the .ots proof is not an OpenTimestamps file: {exc}") from exc
    if not isinstance(detached.file_hash_op, OpSHA256):
        raise MalformedProofError("the .ots proof must hash the file with SHA-256")
    stack = [detached.timestamp]
    while stack:
        node = stack.pop()
        for attestation in node.attestations:
            if not isinstance(attestation, PendingAttestation | BitcoinBlockHeaderAttestation):
                raise MalformedProofError(
                    f"the .ots proof holds a {type(attestation).__name__}; only pending and "
                    "Bitcoin block header attestations are allowed"
                )
        for op, child in node.ops.items():
            if not isinstance(op, OpAppend | OpPrepend | OpSHA256):
                raise MalformedProofError(
                    f"the .ots proof uses the operation {op.TAG_NAME}; only append, prepend "
                    "and sha256 are allowed"
                )
            stack.append(child)
    return detached


def _digest_at(attestations: Sequence[Any], height: int) -> bytes:
    for attestation in attestations:
        if attestation.height == height:
            return bytes(attestation.digest)
    return b""
