"""Wire shapes of the hash certificates API (``/v1/certificates``, camelCase).

``CertificateCreate`` both documents and validates the request body: each field's
problem is reported with the family's code for that field, in the order the document
lists the fields, before pydantic's own checks (which then always pass)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from notarium.core.errors import ValidationError
from notarium.core.hashing.sha256 import normalize_sha256_hex
from notarium.core.text import has_control
from notarium.ledger.records.metadata import check_metadata
from notarium.ledger.records.values import NewRecord

MAX_SAFE = 2**53 - 1


class InvalidField(ValidationError):
    pass


class CertificateCreate(BaseModel):
    model_config = ConfigDict(extra="allow")

    sha256Hash: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    fileName: str = Field(min_length=1, max_length=1024)
    fileSize: int = Field(ge=0, le=MAX_SAFE)
    fileType: str | None = Field(default=None, max_length=255)
    metadata: dict[str, Any] | None = None
    metadataPublic: bool = False

    @model_validator(mode="before")
    @classmethod
    def _fields(cls, payload: Any) -> Any:
        if not isinstance(payload, dict):
            raise InvalidField("The request body must be a JSON object.", code="INVALID_JSON")
        name = payload.get("fileName")
        size = payload.get("fileSize")
        file_type = payload.get("fileType")
        public = payload.get("metadataPublic", False)
        checked = {**payload, "sha256Hash": normalize_sha256_hex(payload.get("sha256Hash"))}
        if not isinstance(name, str) or not name.strip() or len(name) > 1024 or has_control(name):
            raise InvalidField(
                "`fileName` must be a non-empty string of at most 1024 characters.",
                code="INVALID_FILE_NAME",
            )
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SAFE:
            raise InvalidField(
                "`fileSize` must be a non-negative integer.", code="INVALID_FILE_SIZE"
            )
        if file_type is not None and (
            not isinstance(file_type, str) or len(file_type) > 255 or has_control(file_type)
        ):
            raise InvalidField(
                "`fileType` must be a string of at most 255 characters.", code="INVALID_FILE_TYPE"
            )
        if not isinstance(public, bool):
            raise InvalidField("`metadataPublic` must be a boolean.", code="INVALID_METADATA")
        checked["metadata"] = check_metadata(payload.get("metadata"))
        return checked

    def new_record(self) -> NewRecord:
        return NewRecord(
            sha256=self.sha256Hash,
            filename=self.fileName,
            file_size_bytes=self.fileSize,
            file_type=self.fileType,
            channel="certificates",
            metadata=self.metadata,
            public_metadata=self.metadataPublic,
            distinct_by_metadata=True,
        )


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
