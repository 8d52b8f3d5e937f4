"""Wire shapes of the hash certificates API (``/v1/certificates``, camelCase)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CertificateCreate(BaseModel):
    """Documented request body; validated by hand for the family's own error codes."""

    model_config = ConfigDict(extra="allow")

    sha256Hash: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    fileName: str = Field(min_length=1, max_length=1024)
    fileSize: int = Field(ge=0, le=2**53 - 1)
    fileType: str | None = Field(default=None, max_length=255)
    metadata: dict[str, Any] | None = None
    metadataPublic: bool = False


class Certificate(BaseModel):
    certificateId: str
    publicId: str
    sha256Hash: str
    fileName: str
    fileSize: int
    fileType: str | None
    status: str
    testMode: bool
    metadata: dict[str, Any] = Field(description="`{}` when none was given, never null")
    metadataPublic: bool
    createdAt: str
    confirmedAt: str | None
    bitcoinTxid: str | None
    bitcoinBlock: int | None
    verifyUrl: str
    proofUrl: str
    otsUrl: str


class CertificateList(BaseModel):
    data: list[Certificate]
    hasMore: bool
    nextCursor: str | None


class PublicCertificate(BaseModel):
    publicId: str
    sha256Hash: str
    status: str
    testMode: bool
    createdAt: str
    confirmedAt: str | None
    bitcoinTxid: str | None
    bitcoinBlock: int | None
    timestampToken: str
    fileName: str | None = Field(default=None, description="Only when the owner made it public")
    metadata: dict[str, Any] | None = Field(
        default=None, description="Only when the owner made it public; `{}` if none was given"
    )


class VerifyResult(BaseModel):
    verified: bool
    sha256Hash: str | None
    certificates: list[PublicCertificate]


class FamilyErrorBody(BaseModel):
    code: str
    message: str
    requestId: str
    certificateId: str | None = Field(
        default=None, description="With `duplicate_certificate`: the certificate that exists"
    )
    publicId: str | None = Field(
        default=None, description="With `duplicate_certificate`: its public id"
    )


class FamilyError(BaseModel):
    error: FamilyErrorBody
