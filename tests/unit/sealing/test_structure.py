"""The structure check on its own: real documents pass, each broken one of the corpus
that pyHanko opens at all is refused by it with a reason."""

from __future__ import annotations

from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from fakes.broken_pdfs import _document, build, corpus, valid
from notarium.formats.pdf import MalformedPdfError
from notarium.formats.pdf_structure import check_structure
from unit.sealing.support import make_pdf


def _reader(data: bytes) -> PdfFileReader:
    return PdfFileReader(BytesIO(data), strict=False)


@pytest.mark.parametrize(
    "data",
    [
        valid(),
        make_pdf(3),
        # A leaf without /Type, which readers take for a page.
        build(_document(o3=b"<< /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>")),
        # An inherited MediaBox, a CropBox inside it, a rotation.
        build(
            _document(
                o2=b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595.28 841.89] "
                b"/Rotate 90 >>",
                o3=b"<< /Type /Page /Parent 2 0 R /CropBox [10 10 500 800] /Contents 4 0 R >>",
            )
        ),
    ],
    ids=["corpus base", "three pages", "untyped leaf", "inherited box"],
)
def test_sound_documents_pass(data: bytes) -> None:
    check_structure(_reader(data))


def test_every_broken_document_pyhanko_opens_is_refused() -> None:
    checked = []
    for name, data in corpus().items():
        reader = _opened(data)
        if reader is None:
            continue  # refused before the structure is looked at
        with pytest.raises(MalformedPdfError):
            check_structure(reader)
        checked.append(name)
    assert len(checked) >= 16, checked


def _opened(data: bytes) -> PdfFileReader | None:
    """The reader, when pyHanko opens the file unencrypted; None otherwise."""
    try:
        reader = _reader(data)
        encrypted = reader.encrypted
    except Exception:  # any failure to open is what this tells apart
        return None
    return None if encrypted else reader
