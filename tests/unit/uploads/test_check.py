"""check_upload: the four refusals, each with its own code, and what passes."""

from __future__ import annotations

import pytest

from notarium.core.errors import ValidationError
from notarium.formats.uploads.check import DEFAULT_MAX_UPLOAD_BYTES, check_upload, extension_of
from notarium.formats.uploads.errors import (
    EmptyFile,
    FileTooLarge,
    FileTypeMismatch,
    UnsupportedFileType,
    UploadRejected,
)
from notarium.formats.uploads.filetypes import DOC, DOCX, HEIC, JPEG, PDF, PNG, TEXT, TIFF

from . import samples


@pytest.mark.parametrize(
    ("content", "filename", "kind"),
    [
        (samples.pdf(), "contract.pdf", PDF),
        (samples.pdf(), "CONTRACT.PDF", PDF),
        (samples.doc(), "letter.doc", DOC),
        (samples.docx(), "letter.docx", DOCX),
        (samples.image("JPEG"), "photo.jpg", JPEG),
        (samples.image("JPEG"), "photo.JPEG", JPEG),
        (samples.image("PNG"), "C:\\Users\\ana\\scan.png", PNG),
        (samples.image("TIFF"), "scan.tif", TIFF),
        (samples.image("TIFF"), "scan.tiff", TIFF),
        (samples.heif(b"heic", [b"mif1", b"heic"]), "IMG_0001.HEIC", HEIC),
        (b"notes\n", "notes.txt", TEXT),
        (b"a,b\n1,2\n", "table.csv", TEXT),
    ],
)
def test_accepted(content: bytes, filename: str, kind: object) -> None:
    assert check_upload(content, filename) == kind


def test_empty() -> None:
    with pytest.raises(EmptyFile) as caught:
        check_upload(b"", "empty.pdf")
    assert caught.value.code == "empty_file"
    assert caught.value.message == "'empty.pdf' is empty"


def test_too_large_by_default_above_10_mib() -> None:
    at_limit = b"a" * DEFAULT_MAX_UPLOAD_BYTES
    assert check_upload(at_limit, "big.txt") == TEXT
    with pytest.raises(FileTooLarge) as caught:
        check_upload(at_limit + b"a", "big.txt")
    error = caught.value
    assert error.code == "file_too_large"
    assert (error.size, error.limit) == (DEFAULT_MAX_UPLOAD_BYTES + 1, 10 * 1024 * 1024)
    assert "10,485,761 bytes; the limit is 10,485,760 bytes" in error.message


def test_the_limit_is_configurable() -> None:
    with pytest.raises(FileTooLarge):
        check_upload(samples.pdf(), "contract.pdf", max_bytes=100)


def test_size_is_checked_before_content() -> None:
    with pytest.raises(FileTooLarge):
        check_upload(b"\0" * 101, "x.exe", max_bytes=100)


def test_unsupported() -> None:
    with pytest.raises(UnsupportedFileType) as caught:
        check_upload(b"MZ\x90\x00\x03\x00\x00\x00", "setup.pdf")
    assert caught.value.code == "unsupported_file_type"


@pytest.mark.parametrize(
    ("content", "filename", "said"),
    [
        (samples.image("PNG"), "photo.jpg", "'photo.jpg' says JPEG (.jpg) but its content is PNG"),
        (samples.docx(), "letter.doc", "says Word 97-2003 (DOC) (.doc) but its content is Word"),
        (samples.doc(), "letter.docx", "says Word (DOCX) (.docx) but its content is Word 97"),
        (b"just text\n", "invoice.pdf", "says PDF (.pdf) but its content is plain text"),
        (samples.pdf(), "invoice.txt", "says plain text (.txt) but its content is PDF"),
        (samples.image("JPEG"), "photo", "'photo' has no extension but its content is JPEG"),
        (samples.image("JPEG"), "photo.exe", "'photo.exe' ends in .exe but its content is JPEG"),
    ],
)
def test_mismatch(content: bytes, filename: str, said: str) -> None:
    with pytest.raises(FileTypeMismatch) as caught:
        check_upload(content, filename)
    error = caught.value
    assert error.code == "file_type_mismatch"
    assert said in error.message
    expected = " or ".join(f".{e}" for e in error.detected.extensions)
    assert error.message.endswith(f"name it {expected}")
    assert error.extension == extension_of(filename)


def test_every_refusal_is_a_validation_error_with_a_distinct_code() -> None:
    classes = [EmptyFile, FileTooLarge, UnsupportedFileType, FileTypeMismatch]
    assert all(issubclass(c, UploadRejected) and issubclass(c, ValidationError) for c in classes)
    assert len({c.code for c in classes}) == len(classes)


@pytest.mark.parametrize(
    ("filename", "extension"),
    [
        ("report.pdf", "pdf"),
        ("Report.PDF ", "pdf"),
        ("archive.tar.gz", "gz"),
        ("../../etc/passwd", ""),
        ("C:\\docs\\scan.Tiff", "tiff"),
        ("dir.d/README", ""),
        ("trailing.", ""),
        (".txt", "txt"),
        ("", ""),
    ],
)
def test_extension_of(filename: str, extension: str) -> None:
    assert extension_of(filename) == extension
