"""Outgoing webhooks: signatures (also for receivers, through :func:`verify`) and the
single delivery attempt the worker schedules."""

from notarium.formats.webhook_signature import (
    BODY_SIGNATURE_HEADER,
    DOCUMENT_SIGNATURE_HEADER,
    WebhookVerificationError,
    new_secret,
    sign,
    verify,
)

__all__ = [
    "BODY_SIGNATURE_HEADER",
    "DOCUMENT_SIGNATURE_HEADER",
    "WebhookVerificationError",
    "new_secret",
    "sign",
    "verify",
]
