"""Batch Merkle trees for anchoring, with OpenTimestamps-compatible leaf paths."""

from notarium.formats.merkle.batch import (
    DIGEST_SIZE,
    MAX_PATH_LENGTH,
    NONCE_SIZE,
    Batch,
    LeafProof,
    OtsOp,
    OtsOpName,
    Side,
    Step,
    build_batch,
    ots_ops,
    proof_from_json,
    proof_to_json,
    root_from_proof,
)
from notarium.formats.merkle.errors import MalformedLeafProofError, MerkleInputError

__all__ = [
    "DIGEST_SIZE",
    "MAX_PATH_LENGTH",
    "NONCE_SIZE",
    "Batch",
    "LeafProof",
    "MalformedLeafProofError",
    "MerkleInputError",
    "OtsOp",
    "OtsOpName",
    "Side",
    "Step",
    "build_batch",
    "ots_ops",
    "proof_from_json",
    "proof_to_json",
    "root_from_proof",
]
