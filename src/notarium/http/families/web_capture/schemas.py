"""Wire shapes of the web capture certificates API (``/api/v1``, camelCase)."""

from __future__ import annotations

from pydantic import BaseModel


class CaptureErrorBody(BaseModel):
    error: str
    message: str
    requestId: str


class Links(BaseModel):
    self: str
    certificate: str
    evidence: str


class CertificateCreated(BaseModel):
    certificateId: str
    recordingId: str
    url: str
    finalUrl: str
    status: str
    links: Links


class CertificateMeta(CertificateCreated):
    type: str
    title: str
    assisted: bool
    testMode: bool
    createdAt: str
    recordStatus: str


class CertificateList(BaseModel):
    data: list[CertificateMeta]
    nextCursor: str | None


class CoverageReport(BaseModel):
    url: str
    domain: str
    reachable: bool
    blocked: bool
    protection: str | None
    status: int | None
    detail: str
    billed: bool
    checkedAt: str
