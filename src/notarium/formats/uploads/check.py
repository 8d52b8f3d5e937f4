"""Whether an uploaded file may be accepted: not empty, not too large, a supported type,
and the type its file name's extension says."""

from __future__ import annotations

from notarium.formats.uploads.errors import EmptyFile, FileKind, FileTooLarge, FileTypeMismatch
from notarium.formats.uploads.filetypes import BY_EXTENSION, detect

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def extension_of(filename: str) -> str:
    """The lower-case extension without its dot ("" if none), of the last path component
    in either separator style, since clients send names from any system."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    _stem, dot, extension = base.rpartition(".")
    return extension.lower() if dot else ""


def check_upload(
    data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
) -> FileKind:
    """The upload's type, or the refusal: EmptyFile, FileTooLarge, UnsupportedFileType or
    FileTypeMismatch (all ValidationError, each with its own ``code``)."""
    if not data:
        raise EmptyFile(f"{filename!r} is empty")
    if len(data) > max_bytes:
        raise FileTooLarge(
            f"{filename!r} is {len(data):,} bytes; the limit is {max_bytes:,} bytes",
            size=len(data),
            limit=max_bytes,
        )
    kind = detect(data, filename)
    extension = extension_of(filename)
    if extension in kind.extensions:
        return kind
    expected = " or ".join(f".{e}" for e in kind.extensions)
    if not extension:
        said = "has no extension"
    elif extension in BY_EXTENSION:
        said = f"says {BY_EXTENSION[extension].label} (.{extension})"
    else:
        said = f"ends in .{extension}"
    raise FileTypeMismatch(
        f"{filename!r} {said} but its content is {kind.label}; name it {expected}",
        detected=kind,
        extension=extension,
    )
