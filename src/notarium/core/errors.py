"""The single exception root. Each domain subclasses it; only ``notarium.http.errors``
maps these to status codes and each route family's envelope."""

from __future__ import annotations


class NotariumError(Exception):
    """Root of every error notarium raises on purpose."""

    code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigurationError(NotariumError):
    code = "CONFIGURATION_ERROR"


class ValidationError(NotariumError):
    """Input that can never succeed as sent."""

    code = "INVALID_REQUEST"


class NotFoundError(NotariumError):
    code = "NOT_FOUND"


class ConflictError(NotariumError):
    code = "CONFLICT"


class AuthenticationError(NotariumError):
    code = "INVALID_API_KEY"


class PermissionDeniedError(NotariumError):
    code = "FORBIDDEN"


class QuotaExceededError(NotariumError):
    code = "MONTHLY_LIMIT_REACHED"


class RateLimitedError(NotariumError):
    code = "RATE_LIMITED"

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        remaining: int,
        reset_at: float,
        retry_after: int,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.limit = limit
        self.remaining = remaining
        self.reset_at = reset_at
        self.retry_after = retry_after


class TimestampingError(NotariumError):
    """The time-stamp authority could not produce a token."""

    code = "TSA_ERROR"


class ProofVerificationError(NotariumError):
    """A proof bundle or one of its parts does not check out."""

    code = "PROOF_INVALID"
