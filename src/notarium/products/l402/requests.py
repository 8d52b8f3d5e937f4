"""The endpoint's four actions as plain values (the HTTP family reads them from a
request body), and the digest that binds a token to one exact request."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

TIMESTAMP = "l402_timestamp"
VERIFY = "l402_timestamp_verify"
STATUS = "l402_timestamp_status"
UPDATE = "l402_timestamp_update"
ACTIONS = (TIMESTAMP, VERIFY, STATUS, UPDATE)


@dataclass(frozen=True)
class Notifications:
    webhook_url: str | None = None
    notification_email: str | None = None


@dataclass(frozen=True)
class HashTimestamp:
    sha256: str
    notify: Notifications

    action = TIMESTAMP


@dataclass(frozen=True)
class FileTimestamp:
    data: bytes
    filename: str
    sha256: str
    """Of ``data``, computed here: the server hashes the file itself."""
    notify: Notifications

    action = TIMESTAMP


@dataclass(frozen=True)
class VerifyRequest:
    sha256: str

    action = VERIFY


@dataclass(frozen=True)
class StatusRequest:
    timestamp_id: str | None
    sha256: str | None

    action = STATUS


@dataclass(frozen=True)
class UpdateRequest:
    timestamp_id: str
    set_webhook: bool
    webhook_url: str | None
    """``None`` with ``set_webhook`` removes the webhook."""
    set_email: bool
    notification_email: str | None

    action = UPDATE


ActionRequest = HashTimestamp | FileTimestamp | VerifyRequest | StatusRequest | UpdateRequest
Paid = HashTimestamp | FileTimestamp | UpdateRequest


def request_digest(request: Paid) -> str:
    """SHA-256 over a canonical description of what the payment buys. Everything that
    changes the outcome is in it, so a token cannot be spent on anything else."""
    described: dict[str, Any] = {"v": 1, "action": request.action}
    if isinstance(request, HashTimestamp):
        described |= {"hash": request.sha256, **_notify_fields(request.notify)}
    elif isinstance(request, FileTimestamp):
        described |= {
            "file_sha256": request.sha256,
            "filename": request.filename,
            **_notify_fields(request.notify),
        }
    else:
        described["timestamp_id"] = request.timestamp_id
        if request.set_webhook:
            described["webhook_url"] = request.webhook_url
        if request.set_email:
            described["notification_email"] = request.notification_email
    canonical = json.dumps(described, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(b"notarium-l402-request\x00" + canonical.encode()).hexdigest()


def _notify_fields(notify: Notifications) -> dict[str, str | None]:
    return {"webhook_url": notify.webhook_url, "notification_email": notify.notification_email}
