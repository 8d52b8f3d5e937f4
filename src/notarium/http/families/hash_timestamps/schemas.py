"""Wire shapes of the hash timestamps API (``/api/v1/timestamps``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TimestampCreate(BaseModel):
    """Documented request body. The route validates it by hand so that each field's
    failure gets the document's own error code."""

    model_config = ConfigDict(extra="allow")

    sha256_hash: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    )
    filename: str = Field(min_length=1, max_length=1024)
    file_size_bytes: int = Field(ge=1, le=2**53 - 1)
    file_type: str | None = Field(default=None, max_length=255)


class TimestampResource(BaseModel):
    id: str
    certificate_id: str
    sha256_hash: str
    filename: str
    file_size_bytes: int
    file_type: str | None
    status: Literal["pending", "confirmed", "failed"]
    blockchain_tx: str | None
    bitcoin_block: int | None
    confirmed_at: str | None
    created_at: str
    thumbnail_url: str | None
    branding_snapshot: dict[str, object] | None
    certificate_url: str
    verify_url: str
    ots_url: str
    tsr_url: str
    proof_url: str


class TimestampList(BaseModel):
    data: list[TimestampResource]
    total_count: int
    next_cursor: str | None


class AccountSummary(BaseModel):
    account_id: str
    account_name: str
    plan: str
    mode: str
    scopes: list[str]
    monthly_limit: int
