"""Errors of the L402 endpoint. Their codes are the document's (lower snake case), and
the L402 route family gives each its status."""

from __future__ import annotations

from notarium.core.errors import (
    AuthenticationError,
    ConflictError,
    NotariumError,
    NotFoundError,
    ValidationError,
)


class InvalidRequest(ValidationError):
    code = "invalid_request"


class InvalidAction(ValidationError):
    code = "invalid_action"


class InvalidHash(ValidationError):
    code = "invalid_hash"


class MissingHash(ValidationError):
    code = "missing_hash"


class TimestampNotFound(NotFoundError):
    code = "timestamp_not_found"


class InvalidCredential(AuthenticationError):
    """The L402 credential does not prove payment for this request: always a 401."""

    code = "invalid_token"


class InvalidAuthorization(InvalidCredential):
    code = "invalid_authorization"


class InvalidToken(InvalidCredential):
    """Malformed, forged, tampered with, unknown or revoked."""

    code = "invalid_token"


class InvalidPreimage(InvalidCredential):
    code = "invalid_preimage"


class TokenExpired(InvalidCredential):
    code = "token_expired"


class TokenMismatch(InvalidCredential):
    """A genuine token, bought for another request: one payment buys one operation."""

    code = "token_request_mismatch"


class PaymentNotSettled(InvalidCredential):
    code = "payment_not_settled"


class RequestInProgress(ConflictError):
    """The same paid request is being carried out right now; retry in a moment."""

    code = "request_in_progress"


class FileUploadsUnavailable(NotariumError):
    """File mode needs a malware scanner and none is configured on this server."""

    code = "file_uploads_unavailable"
