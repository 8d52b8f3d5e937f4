"""The kinds of file an upload can be, and why an upload is refused: one class and one
code per reason."""

from __future__ import annotations

from dataclasses import dataclass

from notarium.core.errors import ValidationError


@dataclass(frozen=True)
class FileKind:
    name: str
    """Stable identifier: ``pdf``, ``doc``, ``docx``, ``jpeg``, ``png``, ``gif``, ``bmp``,
    ``tiff``, ``webp``, ``heic`` or ``text``."""
    mime: str
    extensions: tuple[str, ...]
    """Lower-case extensions without the dot, the usual one first."""
    label: str
    """How messages name it."""


class UploadRejected(ValidationError):
    """Root of the refusals below; the upload can never succeed as sent."""

    code = "invalid_file"


class EmptyFile(UploadRejected):
    code = "empty_file"


class FileTooLarge(UploadRejected):
    code = "file_too_large"

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class UnsupportedFileType(UploadRejected):
    code = "unsupported_file_type"


class FileTypeMismatch(UploadRejected):
    """The content is a supported type, but not the one the file name's extension says."""

    code = "file_type_mismatch"

    def __init__(self, message: str, *, detected: FileKind, extension: str) -> None:
        super().__init__(message)
        self.detected = detected
        self.extension = extension
