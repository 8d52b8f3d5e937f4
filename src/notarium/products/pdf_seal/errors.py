"""Errors of the PDF sealing domain; each bad input carries its own code."""

from __future__ import annotations

from notarium.core.errors import ConfigurationError, NotariumError, ValidationError

# The input errors belong to the PDF format; sealing raises them as they are.
from notarium.formats.pdf import EmptyPdfError as EmptyPdfError
from notarium.formats.pdf import EncryptedPdfError as EncryptedPdfError
from notarium.formats.pdf import MalformedPdfError as MalformedPdfError
from notarium.formats.pdf import NotAPdfError as NotAPdfError
from notarium.formats.pdf import PdfInputError as PdfInputError
from notarium.formats.pdf import PdfTooLargeError as PdfTooLargeError


class SealingError(NotariumError):
    """Sealing failed for a reason other than the input document."""

    code = "SEALING_FAILED"


class SealMaterialError(ConfigurationError):
    """The seal key or certificate is missing, inconsistent or unreadable."""

    code = "SEAL_MATERIAL_ERROR"


class InvalidStampError(ValidationError):
    """The visible stamp's page or rectangle does not fit the document."""

    code = "INVALID_STAMP"


class MalformedOcspRequestError(ValidationError):
    code = "OCSP_REQUEST_MALFORMED"
