"""Values the web capture service hands out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notarium.core.errors import NotariumError, PermissionDeniedError, QuotaExceededError


@dataclass(frozen=True)
class WebCaptureView:
    recording_id: str
    certificate_id: str
    record_id: str
    url: str
    final_url: str
    title: str
    assisted: bool
    created_at: datetime
    mode: str
    facts: dict[str, Any]
    record_status: str
    """The status of the record underneath (pending, anchoring, confirmed, failed)."""


@dataclass(frozen=True)
class EvidenceFile:
    name: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class AssistGrant:
    """An assisted-capture link: the token is shown once, only its hash is kept."""

    token: str
    url: str
    protection: str
    expires_at: datetime


class SubscriptionRequired(PermissionDeniedError):
    code = "subscription_required"


class DailyQuotaExceeded(QuotaExceededError):
    code = "quota_exceeded"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CertificationFailed(NotariumError):
    """The page loaded but yielded no usable evidence (nothing recorded, no document)."""

    code = "certification_failed"


class GrantUnusable(NotariumError):
    """An assisted-capture link that is unknown, expired or already used."""

    code = "assist_link_invalid"
