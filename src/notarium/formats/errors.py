"""Errors raised while building or verifying proof bundles.

Each failure mode has its own class and code so that callers (the HTTP layer, the
CLI) can tell a wrong file apart from a forged token without parsing messages.
"""

from __future__ import annotations

from notarium.core.errors import ProofVerificationError, ValidationError


class CanonicalizationError(ValidationError):
    """A value cannot be represented in RFC 8785 canonical JSON as notarium uses it."""

    code = "NOT_CANONICALIZABLE"


class BundleBuildError(ValidationError):
    """The inputs given to ``build_bundle`` are inconsistent or malformed."""

    code = "INVALID_PROOF_INPUT"


class UnsupportedProofFormatError(ProofVerificationError):
    code = "PROOF_UNSUPPORTED_FORMAT"


class MalformedProofError(ProofVerificationError):
    """A field is missing, has the wrong type, or does not decode."""

    code = "PROOF_MALFORMED"


class HashMismatchError(ProofVerificationError):
    """The file the user holds is not the file the proof is about."""

    code = "PROOF_HASH_MISMATCH"


class RecordSignatureError(ProofVerificationError):
    """The service signature over the record does not verify."""

    code = "PROOF_SIGNATURE_INVALID"


class UntrustedServiceKeyError(ProofVerificationError):
    """The record is signed by a key the verifier was not told to trust."""

    code = "PROOF_UNTRUSTED_SERVICE_KEY"


class TokenBindingError(ProofVerificationError):
    """The time-stamp token is not the one the record names, or stamps another hash."""

    code = "PROOF_TOKEN_MISMATCH"


class TokenSignatureError(ProofVerificationError):
    """The CMS structure of the time-stamp token does not verify."""

    code = "PROOF_TOKEN_SIGNATURE_INVALID"


class TsaCertificateError(ProofVerificationError):
    """The certificate that signed the token is not fit to sign time-stamps."""

    code = "PROOF_TSA_CERTIFICATE_INVALID"


class ChainValidationError(ProofVerificationError):
    """No valid path leads from the TSA certificate to a trusted root at genTime."""

    code = "PROOF_CHAIN_INVALID"
