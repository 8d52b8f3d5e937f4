"""An append-only RFC 6962 / RFC 9162 Merkle log: tree hashing and proofs over leaf
hashes, C2SP checkpoints and signed notes, and offline c2sp.org/tlog-proof files.

Storage is not part of this package: the functions take sequences of leaf hashes, and
``MemoryLog`` is an in-memory log for tests and fakes.
"""

from notarium.translog.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    parse_checkpoint_body,
    parse_signed_checkpoint,
    sign_checkpoint,
    verify_checkpoint,
)
from notarium.translog.errors import (
    InclusionProofError,
    InvalidCheckpointError,
    InvalidLogHashError,
    InvalidVerifierKeyError,
    LogRangeError,
    MalformedCheckpointError,
    MalformedNoteError,
    MalformedTlogProofError,
    NoteSignatureError,
    OriginMismatchError,
    UntrustedNoteError,
)
from notarium.translog.memory import MemoryLog
from notarium.translog.note import (
    NoteSignature,
    VerifierKey,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_note,
    verifier_key_text,
)
from notarium.translog.tlogproof import (
    TLOG_PROOF_HEADER,
    TlogProof,
    format_tlog_proof,
    parse_tlog_proof,
    verify_tlog_proof,
)
from notarium.translog.tree import (
    EMPTY_ROOT,
    HASH_SIZE,
    HashTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MAX_TREE_SIZE",
    "TLOG_PROOF_HEADER",
    "Checkpoint",
    "HashTree",
    "InclusionProofError",
    "InvalidCheckpointError",
    "InvalidLogHashError",
    "InvalidVerifierKeyError",
    "LogRangeError",
    "MalformedCheckpointError",
    "MalformedNoteError",
    "MalformedTlogProofError",
    "MemoryLog",
    "NoteSignature",
    "NoteSignatureError",
    "OriginMismatchError",
    "TlogProof",
    "UntrustedNoteError",
    "VerifierKey",
    "consistency_proof",
    "format_tlog_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_checkpoint_body",
    "parse_note",
    "parse_signed_checkpoint",
    "parse_tlog_proof",
    "parse_verifier_key",
    "root",
    "sign_checkpoint",
    "sign_note",
    "verifier_key_text",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_tlog_proof",
]
