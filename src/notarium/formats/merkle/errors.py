"""Errors raised while building or reading anchoring batch trees."""

from __future__ import annotations

from notarium.core.errors import ValidationError


class MerkleInputError(ValidationError):
    """The digests or nonces handed to ``build_batch`` cannot form a batch."""

    code = "INVALID_MERKLE_INPUT"


class MalformedLeafProofError(ValidationError):
    """A leaf proof, or its JSON form, has a missing, extra or ill-sized field."""

    code = "MERKLE_PROOF_MALFORMED"
