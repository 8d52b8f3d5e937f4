"""The hash timestamps family's own errors and its error table: the document's codes
(``UPPER_SNAKE_CASE``) in the standard envelope."""

from __future__ import annotations

from notarium.core.errors import NotFoundError, ValidationError
from notarium.core.hashing.sha256 import InvalidSha256Error
from notarium.http.error_codes import Wire
from notarium.http.family import ErrorMap
from notarium.ledger.idempotency.service import (
    IdempotencyInProgress,
    IdempotencyMismatch,
    InvalidIdempotencyKey,
)
from notarium.ledger.proofs import OtsNotFound
from notarium.ledger.records.errors import DuplicateRecord, RecordNotFound


class InvalidField(ValidationError):
    """A request field the document refuses; the raise site names the field's code."""


class LogProofNotFound(NotFoundError):
    code = "LOG_PROOF_NOT_FOUND"


ERRORS = ErrorMap(
    {
        # The field's code comes from the raise site (`INVALID_FILENAME`, `INVALID_LIMIT`...).
        InvalidField: Wire(400),
        InvalidSha256Error: Wire(400, "INVALID_SHA256_HASH"),
        InvalidIdempotencyKey: Wire(400, "INVALID_IDEMPOTENCY_KEY"),
        IdempotencyMismatch: Wire(422, "IDEMPOTENCY_MISMATCH"),
        IdempotencyInProgress: Wire(409, "IDEMPOTENCY_IN_PROGRESS"),
        DuplicateRecord: Wire(409, "DUPLICATE_TIMESTAMP"),
        RecordNotFound: Wire(404, "TIMESTAMP_NOT_FOUND"),
        OtsNotFound: Wire(404, "OTS_NOT_FOUND"),
        LogProofNotFound: Wire(404, "LOG_PROOF_NOT_FOUND"),
    }
)
