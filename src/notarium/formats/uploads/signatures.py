"""Content checks for the formats where the ``filetype`` library's matcher is too loose
or too narrow for accepting uploads. Each says what it adds.

All of them take the whole file (uploads are at most a few MiB) and never raise: hostile
bytes only ever make them answer False.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from filetype.types.document import Doc as _FiletypeDoc

OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_OLE2_SECTOR_SHIFTS = (b"\x09\x00", b"\x0c\x00")  # 512- or 4096-byte sectors
_DIRECTORY_ENTRY = 128
# A directory entry named "WordDocument": UTF-16LE name with its terminator (26 bytes,
# the length stored at offset 64), object type 2 (stream) at offset 66.
_WORD_DOCUMENT_NAME = "WordDocument".encode("utf-16-le") + b"\0\0"
_WORD_DOCUMENT_FIELDS = struct.pack("<HB", len(_WORD_DOCUMENT_NAME), 2)

_DOCX_MAIN_PART = "word/document.xml"
_DOCX_CONTENT_TYPES = "[Content_Types].xml"
_DOCX_MAIN_TYPE = (
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
)
_CONTENT_TYPES_MAX = 1024 * 1024
# zipfile signals malformed archives with more than BadZipFile.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    struct.error,
    NotImplementedError,
    OverflowError,
    IndexError,
    KeyError,
    RuntimeError,
)

_BMP_INFO_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})


def is_word_ole2(data: bytes) -> bool:
    """A Word 97-2003 document: an OLE2 compound file holding a ``WordDocument`` stream.

    ``filetype`` recognises one only when that stream starts in the first sector or the
    CompObj bytes sit at one fixed offset; Word writes other layouts too. So this also
    looks for a ``WordDocument`` stream entry in the directory, which sits on a 128-byte
    boundary like every directory entry. Other compound files (Excel, PowerPoint,
    Outlook, installers) are not DOC.
    """
    if len(data) < 512 or not data.startswith(OLE2_MAGIC):
        return False
    if data[28:30] != b"\xfe\xff" or data[30:32] not in _OLE2_SECTOR_SHIFTS:
        return False
    if _FiletypeDoc().match(data[:8192]):
        return True
    start = 512
    while (index := data.find(_WORD_DOCUMENT_NAME, start)) != -1:
        fields = data[index + 64 : index + 67]
        if index % _DIRECTORY_ENTRY == 0 and fields == _WORD_DOCUMENT_FIELDS:
            return True
        start = index + 1
    return False


def is_docx(data: bytes) -> bool:
    """A Word 2007+ document: a ZIP whose central directory lists ``word/document.xml``
    and whose ``[Content_Types].xml`` declares it the wordprocessingml main part.

    ``filetype`` only reads the first local file headers in the first 6000 bytes, so any
    ZIP with a ``word/`` entry early passes, and macro-enabled (.docm) or template files
    pass as DOCX. The central directory is at the end of the file, hence whole bytes.
    Nothing is decompressed but the (size-capped) content-types part.
    """
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if _DOCX_MAIN_PART not in names or _DOCX_CONTENT_TYPES not in names:
                return False
            info = archive.getinfo(_DOCX_CONTENT_TYPES)
            # Word never encrypts package parts (it encrypts into an OLE2 container).
            if info.flag_bits & 0x1 or info.file_size > _CONTENT_TYPES_MAX:
                return False
            with archive.open(info) as part:
                content_types = part.read(_CONTENT_TYPES_MAX + 1)
    except _ZIP_ERRORS:
        return False
    return _DOCX_MAIN_TYPE in content_types


def is_gif(data: bytes) -> bool:
    """``filetype`` accepts any content starting with ``GIF`` (a text file saying "GIFT
    list" included); this requires one of the two version headers."""
    return data[:6] in (b"GIF87a", b"GIF89a")


def is_bmp(data: bytes) -> bool:
    """``filetype`` accepts anything starting with ``BM`` (text such as "BMW" included);
    this also requires a known bitmap info header size after the 14-byte file header."""
    if len(data) < 26 or not data.startswith(b"BM"):
        return False
    return int.from_bytes(data[14:18], "little") in _BMP_INFO_HEADER_SIZES


def is_heic(data: bytes) -> bool:
    """An HEIF file with an HEVC brand, as major or compatible brand of its ``ftyp`` box.

    ``filetype`` knows only the ``heic`` brand (and ``mif1``/``msf1`` with it); cameras
    also write ``heix`` (10-bit) and the sequence brands. AVIF, which is HEIF too, is not
    HEIC and is not matched.
    """
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    size = int.from_bytes(data[0:4], "big")
    if size < 16 or size > len(data) or size % 4:
        return False
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, size, 4)}
    return not brands.isdisjoint(_HEIC_BRANDS)


def is_bigtiff(data: bytes) -> bool:
    """BigTIFF (version 43), which ``filetype``'s TIFF matcher (version 42) does not know."""
    return data[:4] in (b"II+\x00", b"MM\x00+")


def is_plain_text(data: bytes) -> bool:
    """UTF-8 (ASCII included, a byte-order mark allowed) without NUL bytes. ``filetype``
    has no text matcher. UTF-16 text has NULs and is refused, as are legacy 8-bit
    encodings that are not valid UTF-8."""
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
