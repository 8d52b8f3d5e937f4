"""The PDF seal family's error table: the seal document's codes in the standard
envelope; an unreadable upload is a 400, an oversize PDF a 413, anything else than a
PDF a 415."""

from __future__ import annotations

from notarium.http.error_codes import Wire
from notarium.http.family import ErrorMap
from notarium.http.multipart import InvalidUpload
from notarium.products.pdf_seal.errors import (
    InvalidStampError,
    NotAPdfError,
    PdfInputError,
    PdfTooLargeError,
    SealingError,
    SealMaterialError,
)

# Codes come from the errors themselves (`INVALID_UPLOAD`, `FILE_COUNT`, `PDF_EMPTY`...).
ERRORS = ErrorMap(
    {
        InvalidUpload: Wire(400),
        PdfInputError: Wire(400),
        PdfTooLargeError: Wire(413),
        NotAPdfError: Wire(415),
        InvalidStampError: Wire(400),
        SealMaterialError: Wire(500),
        SealingError: Wire(500),
    }
)
