"""Small real files of every upload format, made here: images by Pillow, the PDF by
ReportLab, DOCX by zipfile, DOC as a minimal OLE2 compound file, HEIC as an ftyp box."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Sequence

from PIL import Image
from reportlab.pdfgen import canvas

from notarium.formats.uploads.signatures import OLE2_MAGIC


def image(format: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, format, **options)
    return out.getvalue()


def pdf() -> bytes:
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "notarium upload sample")
    page.save()
    return out.getvalue()


# --- DOCX --------------------------------------------------------------------------------

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


def _content_types(main_type: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{main_type}"/>'
        "</Types>"
    )


_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>notarium upload sample</w:t></w:r></w:p></w:body></w:document>"
)


def docx(
    *, main_type: str = WORD_MAIN, filler_before_document: int = 0, document: bool = True
) -> bytes:
    """A minimal Word package; ``filler_before_document`` stored entries of 1 KiB push
    ``word/document.xml`` past what a head-only matcher reads."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _content_types(main_type))
        archive.writestr("_rels/.rels", _RELS)
        for index in range(filler_before_document):
            archive.writestr(
                f"docProps/custom{index}.bin", bytes(1024), compress_type=zipfile.ZIP_STORED
            )
        if document:
            archive.writestr("word/document.xml", _DOCUMENT)
    return out.getvalue()


def zip_with(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


# --- DOC (OLE2 compound file, MS-CFB version 3, 512-byte sectors) -------------------------

_SECTOR = 512
_FREESECT, _ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
# Word's File Information Block starts with wIdent 0xA5EC and nFib 0x00C1.
FIB_START = b"\xec\xa5\xc1\x00"


def _directory_entry(
    name: str, kind: int, *, child: int = _NOSTREAM, right: int = _NOSTREAM, red: bool = False,
    start: int = _ENDOFCHAIN, size: int = 0,
) -> bytes:  # fmt: skip
    encoded = name.encode("utf-16-le") + b"\0\0"
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 0 if red else 1)
        + struct.pack("<III", _NOSTREAM, right, child)
        + bytes(16 + 4 + 8 + 8)  # CLSID, state bits, creation and modification times
        + struct.pack("<IQ", start, size)
    )


def ole2(streams: Sequence[tuple[str, bytes]]) -> bytes:
    """A compound file holding ``streams`` in this order from sector 0, then the FAT and
    the directory. Streams must be at least 4096 bytes (the mini-stream cutoff) so they
    live in regular sectors, as the format requires."""
    sectors: list[bytes] = []
    fat: list[int] = []
    starts: list[int] = []
    for _, content in streams:
        assert len(content) >= 4096
        count = -(-len(content) // _SECTOR)
        starts.append(len(sectors))
        for index in range(count):
            sectors.append(content[index * _SECTOR : (index + 1) * _SECTOR].ljust(_SECTOR, b"\0"))
            fat.append(len(sectors) if index < count - 1 else _ENDOFCHAIN)
    fat_sector = len(sectors)
    fat.append(_FATSECT)
    directory_sector = fat_sector + 1
    fat.append(_ENDOFCHAIN)

    # The root's child is the first stream; the others hang off it as right siblings,
    # which is a valid (if unbalanced) red-black tree when sorted by the format's order.
    order = sorted(range(len(streams)), key=lambda i: (len(streams[i][0]), streams[i][0].upper()))
    entries = [b""] * len(streams)
    for position, index in enumerate(order):
        name, content = streams[index]
        right = order[position + 1] + 1 if position + 1 < len(order) else _NOSTREAM
        entries[index] = _directory_entry(
            name, 2, right=right, red=position > 0, start=starts[index], size=len(content)
        )
    root = _directory_entry("Root Entry", 5, child=order[0] + 1)
    directory = root + b"".join(entries)
    assert len(directory) <= _SECTOR
    sectors.append(b"".join(struct.pack("<I", v) for v in fat).ljust(_SECTOR, b"\xff"))
    sectors.append(directory.ljust(_SECTOR, b"\0"))

    header = (
        OLE2_MAGIC
        + bytes(16)
        + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, directory_sector, 0, 4096, _ENDOFCHAIN, 0, _ENDOFCHAIN, 0)
        + struct.pack("<I", fat_sector)
        + struct.pack("<I", _FREESECT) * 108
    )
    assert len(header) == _SECTOR
    return header + b"".join(sectors)


def doc(*, word_document_first: bool = True) -> bytes:
    """A Word 97-2003 file: a WordDocument stream (starting with the FIB) and a table
    stream. With the WordDocument stream first, its FIB sits at offset 512."""
    word = (FIB_START + b"notarium upload sample").ljust(4096, b"\0")
    table = bytes(4096)
    streams = [("WordDocument", word), ("1Table", table)]
    return ole2(streams if word_document_first else streams[::-1])


def xls() -> bytes:
    """A compound file that is a workbook, not a Word document."""
    return ole2([("Workbook", b"\x09\x08".ljust(4096, b"\0"))])


# --- HEIC ---------------------------------------------------------------------------------


def heif(major: bytes, compatible: Sequence[bytes]) -> bytes:
    """An ftyp box, then an empty meta box: enough for a container-level check."""
    ftyp_body = major + b"\0\0\0\0" + b"".join(compatible)
    ftyp = struct.pack(">I", 8 + len(ftyp_body)) + b"ftyp" + ftyp_body
    meta = struct.pack(">I", 12) + b"meta" + b"\0\0\0\0"
    return ftyp + meta


def with_first_entry_marked_encrypted(archive: bytes) -> bytes:
    """Sets the "encrypted" flag of the first ZIP entry in its local and central headers."""
    data = bytearray(archive)
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    return bytes(data)
