"""Wire shapes of the L402 endpoint (``POST /api/l402``), as its document gives them.
The request body is validated by hand for the document's error codes; these models
document it and every answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

HASH = r"^[0-9a-fA-F]{64}$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimestampHashBody(_Body):
    action: Literal["l402_timestamp"]
    hash: str = Field(pattern=HASH, description="64-character hex SHA-256 hash")
    webhook_url: str | None = Field(default=None, max_length=2048)
    notification_email: str | None = Field(default=None, max_length=320)


class TimestampFileBody(_Body):
    action: Literal["l402_timestamp"]
    file_data: str = Field(
        min_length=1,
        description="Base64-encoded file (PDF, DOC, DOCX, JPG, PNG, GIF, BMP, TIFF, WebP, "
        "HEIC, plain text), at most 10 MB",
        json_schema_extra={"contentEncoding": "base64"},
    )
    filename: str = Field(min_length=1, max_length=255, description="With its extension")
    webhook_url: str | None = Field(default=None, max_length=2048)
    notification_email: str | None = Field(default=None, max_length=320)


class VerifyBody(_Body):
    action: Literal["l402_timestamp_verify"]
    hash: str = Field(pattern=HASH)


class StatusBody(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["timestamp_id"]}, {"required": ["hash"]}]},
    )

    action: Literal["l402_timestamp_status"]
    timestamp_id: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, pattern=HASH)


class UpdateBody(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [{"required": ["webhook_url"]}, {"required": ["notification_email"]}]
        },
    )

    action: Literal["l402_timestamp_update"]
    timestamp_id: str = Field(min_length=1, max_length=64)
    webhook_url: str | None = Field(
        default=None, max_length=2048, description="null or empty removes the webhook"
    )
    notification_email: str | None = Field(
        default=None, max_length=320, description="null or empty removes the e-mail"
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
