"""The upload formats notarium accepts, and which one a file's content is.

Detection reads the content only; a file name never decides the type (``check_upload``
compares the two). PDF, JPEG, PNG, WebP and TIFF are recognised by the ``filetype``
library's matchers; DOC, DOCX, GIF, BMP, HEIC, BigTIFF and plain text by the checks in
:mod:`notarium.formats.uploads.signatures`, each of which says what ``filetype`` lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from filetype.types.archive import Pdf
from filetype.types.image import Jpeg, Png, Tiff, Webp

from notarium.formats.uploads import signatures
from notarium.formats.uploads.errors import EmptyFile, FileKind, UnsupportedFileType

# filetype's matchers look at a file's head only; this is the length it reads itself.
_HEAD = 8192


PDF = FileKind("pdf", "application/pdf", ("pdf",), "PDF")
DOC = FileKind("doc", "application/msword", ("doc",), "Word 97-2003 (DOC)")
DOCX = FileKind(
    "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ("docx",),
    "Word (DOCX)",
)
JPEG = FileKind("jpeg", "image/jpeg", ("jpg", "jpeg"), "JPEG")
PNG = FileKind("png", "image/png", ("png",), "PNG")
GIF = FileKind("gif", "image/gif", ("gif",), "GIF")
BMP = FileKind("bmp", "image/bmp", ("bmp",), "BMP")
TIFF = FileKind("tiff", "image/tiff", ("tif", "tiff"), "TIFF")
WEBP = FileKind("webp", "image/webp", ("webp",), "WebP")
HEIC = FileKind("heic", "image/heic", ("heic", "heif"), "HEIC")
# Plain-text formats by definition; their content check is the same.
TEXT = FileKind("text", "text/plain", ("txt", "text", "md", "csv", "log"), "plain text")


def _head_matcher(matcher: Any) -> Callable[[bytes], bool]:
    return lambda data: bool(matcher.match(data[:_HEAD]))


# Order matters only for text, which must come last: many binary formats start with
# printable bytes.
_MATCHERS: tuple[tuple[FileKind, Callable[[bytes], bool]], ...] = (
    (PDF, _head_matcher(Pdf())),
    (DOC, signatures.is_word_ole2),
    (DOCX, signatures.is_docx),
    (JPEG, _head_matcher(Jpeg())),
    (PNG, _head_matcher(Png())),
    (GIF, signatures.is_gif),
    (BMP, signatures.is_bmp),
    (TIFF, _head_matcher(Tiff())),
    (TIFF, signatures.is_bigtiff),
    (WEBP, _head_matcher(Webp())),
    (HEIC, signatures.is_heic),
    (TEXT, signatures.is_plain_text),
)

SUPPORTED: tuple[FileKind, ...] = tuple(dict.fromkeys(kind for kind, _ in _MATCHERS))
SUPPORTED_LABELS = ", ".join(kind.label for kind in SUPPORTED[:-1]) + f" or {TEXT.label}"
BY_EXTENSION: dict[str, FileKind] = {
    extension: kind for kind in SUPPORTED for extension in kind.extensions
}


def detect(data: bytes, filename: str | None = None) -> FileKind:
    """The supported format ``data`` is, judged by content alone.

    Takes the whole file: a DOCX is only recognisable by its ZIP central directory, at the
    end. Raises :class:`EmptyFile` or :class:`UnsupportedFileType` (``filename`` only
    names the file in the message), never anything else.
    """
    subject = f"{filename!r}" if filename else "the file"
    if not data:
        raise EmptyFile(f"{subject} is empty")
    for kind, matches in _MATCHERS:
        if matches(data):
            return kind
    raise UnsupportedFileType(
        f"the content of {subject} is not a supported file type; supported: {SUPPORTED_LABELS}"
    )
