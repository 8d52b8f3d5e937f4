"""Wire shape of ``POST /api/v1/verify/pdf``: every signature of an uploaded PDF, and the
public record it belongs to."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class PdfTimestampResult(BaseModel):
    intact: bool = Field(description="The token's content is what its TSA signed")
    valid: bool = Field(description="The token's signature verifies")
    trusted: bool = Field(description="The TSA chains to this service's CA")
    time: str | None = Field(description="The time-stamp's time (genTime), UTC")
    reason: str | None = Field(description="Why the time-stamp does not hold, if it does not")


class PdfSignatureResult(BaseModel):
    field_name: str = Field(description="The signature field's fully qualified name")
    document_timestamp: bool = Field(
        description="An RFC 3161 document time-stamp (PAdES B-LTA) rather than a signature"
    )
    intact: bool = Field(description="The signed bytes are unchanged")
    valid: bool = Field(description="The signature value verifies")
    trusted: bool = Field(description="The signer's certificate chains to this service's CA")
    signer_subject: str | None
    signing_time: str | None = Field(description="The time the signer claims, UTC")
    timestamped: bool = Field(description="The signature carries a signature time-stamp")
    timestamp_time: str | None = Field(description="The time-stamp's time, UTC")
    timestamp_trusted: bool | None = Field(
        description="The time-stamp is intact, valid and from a TSA under this service's CA"
    )
    coverage: Literal["entire_file", "entire_revision", "partial"]
    modification_level: (
        Literal["none", "lta_updates", "form_filling", "annotations", "other"] | None
    ) = Field(description="What changed after the signature; null if undetermined")
    problem: str | None = Field(description="Why the signature is not sound, if it is not")
    timestamp: PdfTimestampResult | None = Field(
        description="The signature's time-stamp token (for a document time-stamp, the "
        "time-stamp itself), checked on its own; null when there is none. A signature "
        "whose time-stamp does not hold is not sound"
    )


class PdfRecordMatch(BaseModel):
    match: Literal["document_hash", "embedded_proof"] = Field(
        description="document_hash: this very file was recorded (a sealed PDF); "
        "embedded_proof: a certificate PDF whose sealed, embedded proof names the record"
    )
    certificate_id: str
    sha256_hash: str
    status: Literal["pending", "anchoring", "confirmed", "failed"]
    created_at: str
    confirmed_at: str | None
    blockchain_tx: str | None
    bitcoin_block: int | None
    filename: str | None = Field(default=None, description="Only if its owner made it public")
    certificate_url: str
    verify_url: str


class PdfVerification(BaseModel):
    sha256_hash: str = Field(description="SHA-256 of the uploaded file")
    size_bytes: int
    signed: bool = Field(description="The file carries at least one signature")
    valid: bool = Field(
        description="Signed, and every signature intact, valid and trusted, its "
        "time-stamp (signature or document time-stamp) too, with nothing but long-term "
        "validation data added after it"
    )
    summary: str
    signatures: list[PdfSignatureResult]
    records: list[PdfRecordMatch]
