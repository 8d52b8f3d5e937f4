"""Python SDK for the notarium HTTP API, and the check a webhook receiver runs on each
delivery (``verify_webhook``)."""

from notarium.client.sdk import ApiError, NotariumClient
from notarium.formats.webhook_signature import WebhookVerificationError
from notarium.formats.webhook_signature import verify as verify_webhook

__all__ = ["ApiError", "NotariumClient", "WebhookVerificationError", "verify_webhook"]
