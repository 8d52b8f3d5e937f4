"""Python SDK for the notarium HTTP API."""

from notarium.client.sdk import ApiError, NotariumClient

__all__ = ["ApiError", "NotariumClient"]
