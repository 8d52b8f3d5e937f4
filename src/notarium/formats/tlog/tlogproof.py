"""Offline proofs of inclusion in the log (``c2sp.org/tlog-proof``).

The exact text this module writes and accepts (every line ends in ``\\n``)::

    c2sp.org/tlog-proof@v1
    extra <base64 of opaque bytes>       only when extra data is given
    index <decimal, no leading zeros unless 0>
    <base64 of a 32-byte hash>           zero or more: the RFC 6962 inclusion proof,
                                         leaf's sibling first, root's child last
    <empty line>
    <the signed checkpoint, verbatim>    origin, size, root, extensions, blank line,
                                         signature lines (see ``checkpoint``)

Base64 is standard, padded and canonical; the index is at most 2**64 - 1. The extra
data is not authenticated: the proof stands on the checkpoint signature and the
inclusion of ``leaf_hash(entry)`` alone.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from notarium.core.errors import ProofVerificationError
from notarium.formats.tlog.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    parse_signed_checkpoint,
    verify_checkpoint,
)
from notarium.formats.tlog.errors import (
    InclusionProofError,
    InvalidCheckpointError,
    MalformedTlogProofError,
)
from notarium.formats.tlog.note import VerifierKey, decode_canonical_base64
from notarium.formats.tlog.tree import HASH_SIZE, leaf_hash, verify_inclusion

TLOG_PROOF_HEADER: Final = "c2sp.org/tlog-proof@v1"
# A proof for any log of up to 2**64 entries has at most 64 hashes.
MAX_PROOF_HASHES: Final = 64

_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class TlogProof:
    """A parsed, not yet verified, tlog-proof."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None


def format_tlog_proof(
    index: int,
    inclusion_hashes: Sequence[bytes],
    signed_checkpoint: str,
    extra: bytes | None = None,
) -> str:
    """Write a tlog-proof for entry ``index`` of the log ``signed_checkpoint`` covers."""
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= MAX_TREE_SIZE:
        raise InvalidCheckpointError(f"index must be an integer 0..{MAX_TREE_SIZE}")
    hashes = list(inclusion_hashes)
    if len(hashes) > MAX_PROOF_HASHES or not all(
        isinstance(value, bytes) and len(value) == HASH_SIZE for value in hashes
    ):
        raise InvalidCheckpointError(
            f"inclusion proof must be up to 64 hashes of {HASH_SIZE} bytes"
        )
    if extra is not None and not isinstance(extra, bytes):
        raise InvalidCheckpointError("extra data must be bytes")
    try:
        checkpoint, _ = parse_signed_checkpoint(signed_checkpoint)
    except ProofVerificationError as exc:
        raise InvalidCheckpointError(f"not a signed checkpoint: {exc.message}") from exc
    if index >= checkpoint.size:
        raise InvalidCheckpointError(f"index {index} is not in a tree of size {checkpoint.size}")
    lines = [TLOG_PROOF_HEADER]
    if extra is not None:
        lines.append(f"extra {base64.b64encode(extra).decode('ascii')}")
    lines.append(f"index {index}")
    lines.extend(base64.b64encode(value).decode("ascii") for value in hashes)
    return "\n".join(lines) + "\n\n" + signed_checkpoint


def parse_tlog_proof(text: str) -> TlogProof:
    """Parse a tlog-proof strictly; the checkpoint is checked for shape, not signature."""
    if not isinstance(text, str):
        raise MalformedTlogProofError("a tlog-proof is text")
    head, separator, checkpoint = text.partition("\n\n")
    if not separator:
        raise MalformedTlogProofError("tlog-proof has no empty line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != TLOG_PROOF_HEADER:
        raise MalformedTlogProofError(f"tlog-proof must start with {TLOG_PROOF_HEADER}")
    position = 1
    extra = None
    if position < len(lines) and lines[position].startswith("extra "):
        extra = decode_canonical_base64(lines[position][len("extra ") :])
        if extra is None:
            raise MalformedTlogProofError("tlog-proof extra data is not canonical base64")
        position += 1
    if position >= len(lines) or not lines[position].startswith("index "):
        raise MalformedTlogProofError("tlog-proof has no index line")
    index_text = lines[position][len("index ") :]
    if not _DECIMAL.fullmatch(index_text) or int(index_text) > MAX_TREE_SIZE:
        raise MalformedTlogProofError(f"tlog-proof index {index_text!r} is not a canonical decimal")
    hash_lines = lines[position + 1 :]
    if len(hash_lines) > MAX_PROOF_HASHES:
        raise MalformedTlogProofError(f"tlog-proof has more than {MAX_PROOF_HASHES} hashes")
    hashes = []
    for number, line in enumerate(hash_lines):
        value = decode_canonical_base64(line)
        if value is None or len(value) != HASH_SIZE:
            raise MalformedTlogProofError(
                f"tlog-proof hash {number} is not canonical base64 of {HASH_SIZE} bytes"
            )
        hashes.append(value)
    try:
        parse_signed_checkpoint(checkpoint)
    except ProofVerificationError as exc:
        raise MalformedTlogProofError(f"tlog-proof checkpoint: {exc.message}") from exc
    return TlogProof(
        index=int(index_text), hashes=tuple(hashes), checkpoint=checkpoint, extra=extra
    )


def verify_tlog_proof(
    text: str,
    leaf_data: bytes,
    verifier_key: str | VerifierKey,
    origin: str | None = None,
) -> Checkpoint:
    """Check that ``leaf_data`` is the entry the proof names, in a checkpoint signed by
    ``verifier_key`` (for log ``origin`` when given); returns that checkpoint."""
    if not isinstance(leaf_data, bytes):
        raise MalformedTlogProofError("the log entry to check must be bytes")
    proof = parse_tlog_proof(text)
    checkpoint = verify_checkpoint(proof.checkpoint, verifier_key, origin)
    if not verify_inclusion(
        leaf_hash(leaf_data), proof.index, checkpoint.size, proof.hashes, checkpoint.root
    ):
        raise InclusionProofError(
            f"entry is not at index {proof.index} of {checkpoint.origin} at size {checkpoint.size}"
        )
    return checkpoint
