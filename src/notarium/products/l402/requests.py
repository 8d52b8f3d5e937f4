"""The endpoint's four actions, read from a request body, and the digest that binds a
token to one exact request."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from notarium.core.errors import ValidationError
from notarium.core.hashing.sha256 import InvalidSha256Error, normalize_sha256_hex
from notarium.core.text import has_control
from notarium.products.l402.errors import InvalidAction, InvalidRequest, MissingHash

TIMESTAMP = "l402_timestamp"
VERIFY = "l402_timestamp_verify"
STATUS = "l402_timestamp_status"
UPDATE = "l402_timestamp_update"
ACTIONS = (TIMESTAMP, VERIFY, STATUS, UPDATE)

MAX_FILENAME = 255
MAX_URL = 2048
MAX_EMAIL = 320
MAX_TIMESTAMP_ID = 64
_WHITESPACE = re.compile(r"\s+")


class InvalidHash(ValidationError):
    code = "invalid_hash"


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


def _hash(value: object) -> str:
    try:
        return normalize_sha256_hex(value)
    except InvalidSha256Error as error:
        raise InvalidHash(
            f"`hash` is not a valid 64-character hex SHA-256 hash: {error.message}"
        ) from None


def _required_hash(payload: dict[str, Any]) -> str:
    if payload.get("hash") in (None, ""):
        raise MissingHash("No `hash` was provided in the request body.")
    return _hash(payload["hash"])


def _optional_text(payload: dict[str, Any], key: str, limit: int) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit or has_control(value):
        raise InvalidRequest(
            f"`{key}` must be a string of at most {limit} characters, or null.",
            code=f"invalid_{key}",
        )
    return value.strip()


def _notifications(payload: dict[str, Any]) -> Notifications:
    return Notifications(
        webhook_url=_optional_text(payload, "webhook_url", MAX_URL),
        notification_email=_optional_text(payload, "notification_email", MAX_EMAIL),
    )


def _filename(value: object) -> str:
    if value is None or value == "":
        raise InvalidRequest(
            "`filename` (with its extension) is required with `file_data`.",
            code="missing_filename",
        )
    if not isinstance(value, str) or has_control(value):
        raise InvalidRequest("`filename` must be a file name.", code="invalid_filename")
    # Only the name counts; a path a client sends along says nothing about the file.
    name = value.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in (".", "..") or len(name) > MAX_FILENAME:
        raise InvalidRequest(
            f"`filename` must be a file name of at most {MAX_FILENAME} characters.",
            code="invalid_filename",
        )
    return name


def _file_data(value: object) -> bytes:
    if not isinstance(value, str):
        raise InvalidRequest("`file_data` must be a base64 string.", code="invalid_file_data")
    # Encoders that wrap lines (`base64` without -w0) are common; whitespace is not data.
    text = _WHITESPACE.sub("", value)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("`file_data` is not valid base64.", code="invalid_file_data") from None


def _timestamp_id(payload: dict[str, Any], *, required: bool) -> str | None:
    value = payload.get("timestamp_id")
    if value is None or value == "":
        if required:
            raise InvalidRequest("`timestamp_id` is required.", code="missing_timestamp_id")
        return None
    if not isinstance(value, str) or len(value) > MAX_TIMESTAMP_ID or has_control(value):
        raise InvalidRequest(
            "`timestamp_id` must be a timestamp id such as LN-7K2M9QXD.",
            code="invalid_timestamp_id",
        )
    return value.strip().upper()


def parse_request(payload: dict[str, Any]) -> ActionRequest:
    action = payload.get("action")
    if action not in ACTIONS:
        shown = action if isinstance(action, str) else json.dumps(action)
        raise InvalidAction(f"Unknown action {str(shown)[:64]!r}; use one of {', '.join(ACTIONS)}.")
    if action == TIMESTAMP:
        if payload.get("file_data") is not None:
            if payload.get("hash") not in (None, ""):
                raise InvalidRequest("Send either `hash` or `file_data` with `filename`, not both.")
            data = _file_data(payload["file_data"])
            return FileTimestamp(
                data=data,
                filename=_filename(payload.get("filename")),
                sha256=hashlib.sha256(data).hexdigest(),
                notify=_notifications(payload),
            )
        return HashTimestamp(_required_hash(payload), _notifications(payload))
    if action == VERIFY:
        return VerifyRequest(_required_hash(payload))
    if action == STATUS:
        timestamp_id = _timestamp_id(payload, required=False)
        if timestamp_id is None and payload.get("hash") in (None, ""):
            raise MissingHash("Send `timestamp_id` or `hash`.")
        sha256 = _hash(payload["hash"]) if payload.get("hash") not in (None, "") else None
        return StatusRequest(timestamp_id, sha256)
    timestamp_id = _timestamp_id(payload, required=True)
    assert timestamp_id is not None
    set_webhook = "webhook_url" in payload
    set_email = "notification_email" in payload
    if not (set_webhook or set_email):
        raise InvalidRequest(
            "Give `webhook_url`, `notification_email` or both (null or empty removes one).",
            code="nothing_to_update",
        )
    notify = _notifications(payload)
    return UpdateRequest(
        timestamp_id=timestamp_id,
        set_webhook=set_webhook,
        webhook_url=notify.webhook_url,
        set_email=set_email,
        notification_email=notify.notification_email,
    )


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
