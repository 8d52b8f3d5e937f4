"""Wire shape of a webhook delivery's body (the certificates document's payload)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

EventType = Literal[
    "certificate.created", "certificate.anchoring", "certificate.confirmed", "certificate.failed"
]


class CertificateEventData(BaseModel):
    certificateId: str
    publicId: str
    status: Literal["created", "anchoring", "confirmed", "failed"]
    fileName: str
    sha256Hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    testMode: bool
    metadata: dict[str, Any] = Field(
        description="Echoed as given at creation; `{}` when none was given, never null"
    )
    confirmedAt: str | None = Field(description="Once confirmed")
    bitcoinTxid: str | None
    bitcoinBlock: int | None


class CertificateEvent(BaseModel):
    event: EventType
    timestamp: str = Field(description="When the event happened, ISO 8601 UTC, milliseconds")
    data: CertificateEventData
