"""What the rest of notarium needs from mail: send one plain-text message."""

from __future__ import annotations

from typing import Protocol

from notarium.core.errors import NotariumError


class MailError(NotariumError):
    """A message could not be handed to the mail server."""

    code = "MAIL_ERROR"


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None:
        """Send ``body`` as plain text to the single address ``to``; raise
        :class:`MailError` when the message was not accepted for delivery."""
        ...
