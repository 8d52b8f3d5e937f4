"""Wire shapes of the L402 endpoint (``POST /api/l402``), as its document gives them,
and the reading of a request body into one of the four actions. The body is read by
hand, field by field, for the document's error codes; the models document it and every
answer."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from notarium.core.hashing.sha256 import InvalidSha256Error, normalize_sha256_hex
from notarium.core.text import has_control
from notarium.products.l402.errors import InvalidAction, InvalidHash, InvalidRequest, MissingHash
from notarium.products.l402.requests import (
    ACTIONS,
    STATUS,
    TIMESTAMP,
    VERIFY,
    ActionRequest,
    FileTimestamp,
    HashTimestamp,
    Notifications,
    StatusRequest,
    UpdateRequest,
    VerifyRequest,
)

HASH = r"^[0-9a-fA-F]{64}$"
MAX_FILENAME = 255
MAX_URL = 2048
MAX_EMAIL = 320
MAX_TIMESTAMP_ID = 64
_WHITESPACE = re.compile(r"\s+")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimestampHashBody(_Body):
    action: Literal["l402_timestamp"]
    hash: str = Field(pattern=HASH, description="64-character hex SHA-256 hash")
    webhook_url: str | None = Field(default=None, max_length=MAX_URL)
    notification_email: str | None = Field(default=None, max_length=MAX_EMAIL)


class TimestampFileBody(_Body):
    action: Literal["l402_timestamp"]
    file_data: str = Field(
        min_length=1,
        description="Base64-encoded file (PDF, DOC, DOCX, JPG, PNG, GIF, BMP, TIFF, WebP, "
        "HEIC, plain text), at most 10 MB",
        json_schema_extra={"contentEncoding": "base64"},
    )
    filename: str = Field(min_length=1, max_length=MAX_FILENAME, description="With its extension")
    webhook_url: str | None = Field(default=None, max_length=MAX_URL)
    notification_email: str | None = Field(default=None, max_length=MAX_EMAIL)


class VerifyBody(_Body):
    action: Literal["l402_timestamp_verify"]
    hash: str = Field(pattern=HASH)


class StatusBody(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["timestamp_id"]}, {"required": ["hash"]}]},
    )

    action: Literal["l402_timestamp_status"]
    timestamp_id: str | None = Field(default=None, max_length=MAX_TIMESTAMP_ID)
    hash: str | None = Field(default=None, pattern=HASH)


class UpdateBody(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": ["webhook_url"]}, {"required": ["notification_email"]}]
        },
    )

    action: Literal["l402_timestamp_update"]
    timestamp_id: str = Field(min_length=1, max_length=MAX_TIMESTAMP_ID)
    webhook_url: str | None = Field(
        default=None, max_length=MAX_URL, description="null or empty removes the webhook"
    )
    notification_email: str | None = Field(
        default=None, max_length=MAX_EMAIL, description="null or empty removes the e-mail"
    )


def request_body_schema() -> dict[str, Any]:
    return {
        "oneOf": [
            model.model_json_schema()
            for model in (TimestampHashBody, TimestampFileBody, VerifyBody, StatusBody, UpdateBody)
        ]
    }


class FileInfo(BaseModel):
    filename: str
    size: int
    mime: str
    stored: bool


class TimestampAnswer(BaseModel):
    success: Literal[True]
    timestamp_id: str
    hash: str
    status: str
    message: str
    file: FileInfo | None = None
    webhook_secret: str | None = Field(
        default=None, description="Signs this timestamp's webhooks; shown once"
    )
    already_timestamped: bool | None = None


class VerifyAnswer(BaseModel):
    success: Literal[True]
    verified: bool
    found: bool
    hash: str | None = None
    txid: str | None = None
    block_height: int | None = None
    op_return: str | None = Field(
        default=None,
        description="When verified: `<prefix>|<batch Merkle root>` (the service's own "
        "OP_RETURN) or `opentimestamps|<batch Merkle root>` (confirmed through "
        "OpenTimestamps calendars)",
    )
    explorer_url: str | None = None
    status: str | None = None


class StatusAnswer(BaseModel):
    success: Literal[True]
    status: str
    timestamp_id: str
    hash: str
    txid: str | None
    confirmations: int = Field(
        description="0 until confirmed; then the attested block's depth below the best "
        "known height (the node's, else the highest attested block), at least 1"
    )
    block_height: int | None


class UpdateAnswer(BaseModel):
    success: Literal[True]
    timestamp_id: str
    updated: dict[str, str | None]
    message: str
    webhook_secret: str | None = None


class PaymentRequiredAnswer(BaseModel):
    success: Literal[False]
    http_code: Literal[402]
    error: Literal["payment_required"]
    message: str
    invoice: str = Field(description="BOLT11 invoice to pay")
    macaroon: str = Field(description="Standard base64 macaroon for the Authorization header")
    amount_sats: int
    description: str
    request_id: str | None = None


class L402ErrorAnswer(BaseModel):
    success: Literal[False]
    http_code: int
    error: str
    message: str
    request_id: str | None = None


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
