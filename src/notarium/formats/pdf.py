"""PDF input: the errors of a document that cannot be checked or sealed as sent, reading
an upload, and the files a document carries.

Shared by the PDF seal, the certificate PDF and the offline PDF verifier, none of which
owns the format.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, Final

from notarium.core.errors import ValidationError

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader

MAX_PDF_SIZE: Final = 10 * 1024 * 1024
# Readers accept the header anywhere in the first kilobyte (ISO 32000-2 §7.5.2).
_HEADER_WINDOW: Final = 1024


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


def read_pdf(upload: bytes | IO[bytes], max_size: int = MAX_PDF_SIZE) -> bytes:
    """The upload's bytes, refused with a distinct error if it cannot be a PDF we check."""
    # One byte beyond the limit tells "too large" apart without reading it all.
    data = bytes(upload) if isinstance(upload, bytes | bytearray) else upload.read(max_size + 1)
    if not data:
        raise EmptyPdfError("the document is empty")
    if len(data) > max_size:
        raise PdfTooLargeError(f"the document is larger than {max_size} bytes")
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        raise NotAPdfError("the document is not a PDF (no %PDF- header)")
    return data


def read_attachments(reader: PdfFileReader) -> dict[str, bytes]:
    """The files in a document's EmbeddedFiles name tree, by name (flat trees and one
    level of kids, which is what PDF writers produce for a handful of files)."""
    found: dict[str, bytes] = {}
    try:
        tree = reader.root["/Names"]["/EmbeddedFiles"]
    except KeyError:
        return found
    for node in [tree, *_entry(tree, "/Kids", ())]:
        entries = _entry(node, "/Names", ())
        for position in range(0, len(entries) - 1, 2):
            spec = entries[position + 1]
            if "/EF" not in spec:
                continue
            files = spec["/EF"]
            found[str(entries[position])] = (files["/UF"] if "/UF" in files else files["/F"]).data
    return found


def _entry(dictionary: Any, key: str, default: Any) -> Any:
    # Indexing resolves indirect references, which ``get`` would hand back unresolved.
    if key not in dictionary:
        return default
    return dictionary[key]
