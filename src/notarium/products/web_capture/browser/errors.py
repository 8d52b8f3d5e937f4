"""What can go wrong while capturing a page. The route family maps each to its code."""

from __future__ import annotations

from notarium.core.errors import NotariumError, ValidationError


class CaptureError(NotariumError):
    code = "capture_failed"


class InvalidCaptureUrl(ValidationError):
    """Not an absolute http(s) URL, not https without an allowlist entry, or refused by
    the egress policy before anything was fetched."""

    code = "invalid_url"


class CaptureFailed(CaptureError):
    """The page could not be loaded: unreachable, timed out, or the browser crashed."""

    code = "capture_failed"


class BotProtectionBlocked(CaptureError):
    """A real challenge page stood in the way. ``kind`` names the protection."""

    code = "bot_protection_blocked"

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class ServiceBusy(CaptureError):
    """Every browser slot stayed taken for longer than the configured wait."""

    code = "service_busy"


class AssistedSessionClosed(CaptureError):
    """The assisted-capture session expired, was certified, or was closed."""

    code = "assisted_session_closed"


class InvalidAssistedInput(ValidationError):
    """An input event for the live browser that cannot be performed as sent."""

    code = "invalid_input"
