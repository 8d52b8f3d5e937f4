"""Whatever the bytes and the name, detection and the upload check end in a file kind or
one of their own refusals, never in another exception."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from notarium.formats.uploads.check import check_upload
from notarium.formats.uploads.errors import EmptyFile, UnsupportedFileType, UploadRejected
from notarium.formats.uploads.filetypes import SUPPORTED, detect

from . import samples

SEEDS = [
    samples.pdf(),
    samples.doc(),
    samples.doc(word_document_first=False),
    samples.xls(),
    samples.docx(),
    samples.zip_with({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}),
    samples.image("JPEG"),
    samples.image("PNG"),
    samples.image("GIF"),
    samples.image("BMP"),
    samples.image("TIFF"),
    samples.image("WEBP"),
    samples.heif(b"heic", [b"mif1", b"heic"]),
    "Grüße\n".encode(),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real sample with some bytes overwritten, then perhaps cut short: the inputs that
    reach deep into the format checks (ZIP directories, OLE2 headers, ftyp boxes)."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        # Half of the edits land in the last 400 bytes, where a ZIP keeps its directory.
        position = draw(st.integers(0, len(data) - 1))
        if draw(st.booleans()):
            position = max(0, len(data) - 1 - draw(st.integers(0, 399)))
        data[position] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut] if draw(st.booleans()) else data)


def _detect_only_refuses(data: bytes) -> None:
    with contextlib.suppress(EmptyFile, UnsupportedFileType):
        assert detect(data) in SUPPORTED


@given(st.binary(max_size=4096))
def test_detect_on_arbitrary_bytes(data: bytes) -> None:
    _detect_only_refuses(data)


@given(mutated())
def test_detect_on_damaged_real_files(data: bytes) -> None:
    _detect_only_refuses(data)


@given(st.one_of(mutated(), st.binary(max_size=512)), st.text(max_size=40))
def test_check_upload_only_refuses_with_its_own_errors(data: bytes, filename: str) -> None:
    try:
        kind = check_upload(data, filename, max_bytes=1 << 20)
    except UploadRejected as error:
        assert error.code in {
            "empty_file",
            "file_too_large",
            "unsupported_file_type",
            "file_type_mismatch",
        }
    else:
        assert kind in SUPPORTED
