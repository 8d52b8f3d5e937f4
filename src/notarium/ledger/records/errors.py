"""Errors of the records domain."""

from __future__ import annotations

from notarium.core.errors import ConflictError, NotFoundError


class DuplicateRecord(ConflictError):
    code = "DUPLICATE_TIMESTAMP"

    def __init__(self, existing_id: str, existing_certificate_id: str | None = None) -> None:
        super().__init__(
            f"This hash was already timestamped by this account as {existing_id}; "
            "reuse that id instead of creating a duplicate."
        )
        self.existing_id = existing_id
        self.existing_certificate_id = existing_certificate_id


class RecordNotFound(NotFoundError):
    code = "TIMESTAMP_NOT_FOUND"

    def __init__(self, message: str = "No timestamp with this id exists for this account.") -> None:
        super().__init__(message)
