"""Errors raised by the transparency log: bad arguments on the producing side
(``ValidationError``), proofs and notes that do not check out on the verifying side
(``ProofVerificationError``)."""

from __future__ import annotations

from notarium.core.errors import ProofVerificationError, ValidationError


class LogRangeError(ValidationError):
    """An index or tree size outside the log, or sizes in the wrong order."""

    code = "INVALID_LOG_RANGE"


class InvalidLogHashError(ValidationError):
    """A leaf or node hash that is not 32 bytes."""

    code = "INVALID_LOG_HASH"


class InvalidCheckpointError(ValidationError):
    """Note text, checkpoint or tlog-proof fields that the formats cannot carry."""

    code = "INVALID_CHECKPOINT"


class InvalidVerifierKeyError(ValidationError):
    """Signed-note verifier key text that does not parse or whose key id does not match."""

    code = "INVALID_VERIFIER_KEY"


class MalformedNoteError(ProofVerificationError):
    """Text that is not a well-formed signed note."""

    code = "NOTE_MALFORMED"


class MalformedCheckpointError(ProofVerificationError):
    """A signed note whose text is not a well-formed checkpoint."""

    code = "CHECKPOINT_MALFORMED"


class MalformedTlogProofError(ProofVerificationError):
    """Text that is not a well-formed c2sp.org/tlog-proof."""

    code = "TLOG_PROOF_MALFORMED"


class NoteSignatureError(ProofVerificationError):
    """A signature by the trusted key is present but does not verify."""

    code = "NOTE_SIGNATURE_INVALID"


class UntrustedNoteError(ProofVerificationError):
    """No signature in the note comes from the trusted key."""

    code = "NOTE_UNTRUSTED"


class OriginMismatchError(ProofVerificationError):
    """The checkpoint belongs to another log than the one expected."""

    code = "CHECKPOINT_ORIGIN_MISMATCH"


class InclusionProofError(ProofVerificationError):
    """The inclusion proof does not lead from the entry to the checkpoint's root."""

    code = "LOG_INCLUSION_INVALID"
