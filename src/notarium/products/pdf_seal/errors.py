"""Errors of the PDF sealing domain; each bad input carries its own code."""

from __future__ import annotations

from notarium.core.errors import ConfigurationError, NotariumError, ValidationError


class SealingError(NotariumError):
    """Sealing failed for a reason other than the input document."""

    code = "SEALING_FAILED"


class SealMaterialError(ConfigurationError):
    """The seal key or certificate is missing, inconsistent or unreadable."""

    code = "SEAL_MATERIAL_ERROR"


class PdfInputError(ValidationError):
    """The uploaded document can never be sealed as sent."""

    code = "INVALID_PDF"


class EmptyPdfError(PdfInputError):
    code = "PDF_EMPTY"


class PdfTooLargeError(PdfInputError):
    code = "PDF_TOO_LARGE"


class NotAPdfError(PdfInputError):
    code = "NOT_A_PDF"


class MalformedPdfError(PdfInputError):
    code = "PDF_MALFORMED"


class EncryptedPdfError(PdfInputError):
    code = "PDF_ENCRYPTED"


class InvalidStampError(ValidationError):
    """The visible stamp's page or rectangle does not fit the document."""

    code = "INVALID_STAMP"


class MalformedOcspRequestError(ValidationError):
    code = "OCSP_REQUEST_MALFORMED"
