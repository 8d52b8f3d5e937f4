"""Errors of the certificate PDF domain."""

from __future__ import annotations

from notarium.core.errors import NotariumError


class CertificatePdfError(NotariumError):
    """A certificate PDF could not be built."""

    code = "CERTIFICATE_PDF_FAILED"


class AttachmentError(CertificatePdfError):
    code = "CERTIFICATE_ATTACHMENT_INVALID"
