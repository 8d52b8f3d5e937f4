"""Content detection of every upload format, against real minimal files."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable

import filetype
import pytest
from PIL import Image

from notarium.formats.uploads import filetypes
from notarium.formats.uploads.errors import EmptyFile, UnsupportedFileType
from notarium.formats.uploads.filetypes import (
    BMP,
    DOC,
    DOCX,
    GIF,
    HEIC,
    JPEG,
    PDF,
    PNG,
    SUPPORTED,
    TEXT,
    TIFF,
    WEBP,
    FileKind,
    detect,
)

from . import samples

SAMPLES: dict[str, tuple[Callable[[], bytes], FileKind]] = {
    "pdf": (samples.pdf, PDF),
    "doc": (samples.doc, DOC),
    "doc-fib-elsewhere": (lambda: samples.doc(word_document_first=False), DOC),
    "docx": (samples.docx, DOCX),
    "docx-document-late": (lambda: samples.docx(filler_before_document=12), DOCX),
    "jpeg": (lambda: samples.image("JPEG"), JPEG),
    "png": (lambda: samples.image("PNG"), PNG),
    "gif": (lambda: samples.image("GIF"), GIF),
    "bmp": (lambda: samples.image("BMP"), BMP),
    "tiff": (lambda: samples.image("TIFF"), TIFF),
    "tiff-big-endian": (lambda: samples.image("TIFF", tiffinfo={}, big_endian=True), TIFF),
    "webp": (lambda: samples.image("WEBP"), WEBP),
    "heic": (lambda: samples.heif(b"heic", [b"mif1", b"heic"]), HEIC),
    "heic-mif1": (lambda: samples.heif(b"mif1", [b"mif1", b"heic"]), HEIC),
    "heic-10-bit": (lambda: samples.heif(b"heix", [b"mif1", b"heix"]), HEIC),
    "text-ascii": (lambda: b"Minutes of the meeting\r\n", TEXT),
    "text-utf8": ("Protokoll: Grüße, 東京, ✓\n".encode, TEXT),
    "text-utf8-bom": (lambda: "\ufeffcafé\n".encode(), TEXT),
    "text-gift": (lambda: b"GIFT list for the office party\n", TEXT),
    "text-bmw": (lambda: b"BMW 3 series service record\n", TEXT),
}


@pytest.mark.parametrize("sample", SAMPLES)
def test_each_format_is_detected(sample: str) -> None:
    make, kind = SAMPLES[sample]
    assert detect(make()) == kind


@pytest.mark.parametrize("format", ["JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP"])
def test_image_samples_open_in_pillow(format: str) -> None:
    with Image.open(io.BytesIO(samples.image(format))) as opened:
        assert opened.format == format


@pytest.mark.parametrize(
    ("sample", "mime"),
    [
        ("doc", "application/msword"),
        ("doc-fib-elsewhere", "application/msword"),
        ("docx", DOCX.mime),
        ("heic", "image/heic"),
        ("pdf", "application/pdf"),
    ],
)
def test_crafted_samples_are_what_libmagic_says(sample: str, mime: str) -> None:
    """file(1) parses these formats itself: an independent check of the hand-made ones."""
    result = subprocess.run(
        ["file", "--brief", "--mime-type", "-"],
        input=SAMPLES[sample][0](),
        capture_output=True,
        check=True,
    )
    assert result.stdout.decode().strip() == mime


@pytest.mark.parametrize("sample", ["pdf", "jpeg", "png", "tiff", "webp"])
def test_delegated_formats_agree_with_filetype(sample: str) -> None:
    make, kind = SAMPLES[sample]
    guessed = filetype.guess(make())
    assert guessed is not None
    assert guessed.mime == kind.mime


def test_goes_beyond_filetype_where_its_matchers_fall_short() -> None:
    # A DOCX whose document part is past filetype's 6000-byte window.
    late = samples.docx(filler_before_document=12)
    assert filetype.guess_mime(late) != DOCX.mime
    assert detect(late) == DOCX
    # A Word file whose FIB is not at offset 512.
    elsewhere = samples.doc(word_document_first=False)
    assert filetype.guess_mime(elsewhere) != DOC.mime
    assert detect(elsewhere) == DOC
    # A 10-bit HEIC.
    heix = samples.heif(b"heix", [b"mif1", b"heix"])
    assert filetype.guess_mime(heix) != HEIC.mime
    assert detect(heix) == HEIC


def test_macro_enabled_word_is_not_docx() -> None:
    docm = samples.docx(main_type=samples.WORD_MACRO_MAIN)
    with pytest.raises(UnsupportedFileType):
        detect(docm)


def test_zip_with_an_early_word_entry_but_no_document_is_not_docx() -> None:
    fake = samples.zip_with({"word/readme.txt": b"not a document", "payload.exe": b"MZ"})
    assert filetype.guess_mime(fake) == DOCX.mime  # what a head-only matcher concludes
    with pytest.raises(UnsupportedFileType):
        detect(fake)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(samples.xls(), id="ole2-workbook"),
        pytest.param(samples.zip_with({"a.txt": b"hello"}), id="zip"),
        pytest.param(samples.image("AVIF"), id="avif"),
        pytest.param(samples.heif(b"mif1", [b"mif1", b"avif"]), id="heif-without-hevc"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", id="windows-exe"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00" + bytes(8), id="elf"),
        pytest.param("caf\xe9 cr\xe8me\n".encode("latin-1"), id="latin-1-text"),
        pytest.param("plain words\n".encode("utf-16"), id="utf-16-text"),
        pytest.param(b"text with a \x00 NUL", id="nul"),
        pytest.param(b"GIF90a" + bytes(10), id="gif-unknown-version"),
        pytest.param(b"BM" + bytes(30), id="bm-without-info-header"),
        pytest.param(samples.doc()[:511], id="truncated-ole2"),
        pytest.param(samples.docx()[:-30], id="truncated-docx"),
        pytest.param(
            samples.with_first_entry_marked_encrypted(samples.docx()), id="encrypted-docx-part"
        ),
    ],
)
def test_unsupported_content(content: bytes) -> None:
    with pytest.raises(UnsupportedFileType) as caught:
        detect(content, "upload.bin")
    assert caught.value.code == "unsupported_file_type"
    assert "'upload.bin'" in caught.value.message
    assert "PDF" in caught.value.message and "plain text" in caught.value.message


def test_empty_content() -> None:
    with pytest.raises(EmptyFile) as caught:
        detect(b"")
    assert caught.value.code == "empty_file"


def test_every_kind_is_listed_once_with_unique_extensions() -> None:
    assert [kind.name for kind in SUPPORTED] == [
        "pdf", "doc", "docx", "jpeg", "png", "gif", "bmp", "tiff", "webp", "heic", "text",
    ]  # fmt: skip
    extensions = [e for kind in SUPPORTED for e in kind.extensions]
    assert len(extensions) == len(set(extensions))
    assert all(e == e.lower() and not e.startswith(".") for e in extensions)
    assert filetypes.BY_EXTENSION["jpeg"] is JPEG
