"""Why an upload is refused, one class and one code per reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from notarium.core.errors import ValidationError

if TYPE_CHECKING:
    from notarium.formats.uploads.filetypes import FileKind


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
