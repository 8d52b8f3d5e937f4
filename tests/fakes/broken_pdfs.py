"""A corpus of structurally broken PDFs, each built byte by byte with a correct
cross-reference table unless breaking that table is the point, so each one fails for
the one reason its name gives.

``python tests/fakes/broken_pdfs.py DIR`` writes them out for other tools."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path

_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
_PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
_CONTENT = b"BT /F1 24 Tf 72 720 Td (broken) Tj ET"


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), extra, data)


def _page(extra: bytes = b"/MediaBox [0 0 612 792]") -> bytes:
    return b"<< /Type /Page /Parent 2 0 R %s /Contents 4 0 R >>" % extra


def build(
    objects: Mapping[int, bytes],
    *,
    trailer: bytes = b"/Root 1 0 R",
    header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    size: int | None = None,
) -> bytes:
    """A PDF file of ``objects`` (number -> body) with an exact xref table."""
    out = bytearray(header)
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    count = max(objects, default=0) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % count
    for number in range(1, count):
        if number in offsets:
            out += b"%010d 00000 n \n" % offsets[number]
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (
        size if size is not None else count,
        trailer,
        xref,
    )
    return bytes(out)


def _document(**replace: bytes) -> dict[int, bytes]:
    """Catalog 1, page tree 2, page 3, content 4; ``o1=...`` replaces object 1."""
    objects = {1: _CATALOG, 2: _PAGES, 3: _page(), 4: _stream(_CONTENT)}
    for key, body in replace.items():
        objects[int(key[1:])] = body
    return objects


def valid() -> bytes:
    """The unbroken document every entry below departs from."""
    return build(_document())


def _nested(depth: int, opener: bytes, closer: bytes) -> bytes:
    return opener * depth + closer * depth


def _truncated_xref() -> bytes:
    data = valid()
    return data[: data.rindex(b"\nxref\n") + 30]


def _startxref_past_the_end() -> bytes:
    data = valid()
    head, _, _ = data.rpartition(b"startxref\n")
    return head + b"startxref\n%d\n%%%%EOF\n" % (len(data) * 10)


def _xref_offsets_shifted() -> bytes:
    # Every entry points 7 bytes into the middle of the object before it.
    data = valid()
    head, _, tail = data.partition(b"xref\n")
    lines = tail.split(b"\n")
    shifted = [
        b"%010d 00000 n " % (int(line[:10]) + 7) if line.endswith(b" n ") else line
        for line in lines
    ]
    return head + b"xref\n" + b"\n".join(shifted)


def _prev_loop() -> bytes:
    # An incremental update whose /Prev points at its own xref section.
    data = valid()
    start = len(data)
    update = b"5 0 obj\n(update)\nendobj\n"
    xref = start + len(update)
    return (
        data
        + update
        + (
            b"xref\n5 1\n%010d 00000 n \ntrailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\n"
            b"startxref\n%d\n%%%%EOF\n" % (start, xref, xref)
        )
    )


def _encrypted() -> bytes:
    # A standard security handler dictionary with nonsense in it.
    encrypt = b"<< /Filter /Standard /V 2 /R 3 /Length 128 /O (x) /U (y) /P -44 >>"
    return build(_document(o5=encrypt), trailer=b"/Root 1 0 R /Encrypt 5 0 R /ID [(a) (b)]")


def _unknown_security_handler() -> bytes:
    return build(
        _document(o5=b"<< /Filter /NoSuchHandler /V 99 >>"),
        trailer=b"/Root 1 0 R /Encrypt 5 0 R /ID [(a) (b)]",
    )


def _xref_stream_garbage_widths() -> bytes:
    body = _stream(b"\xff" * 40, b"/Type /XRef /W [9 -1 99] /Size 3 /Root 1 0 R ")
    head = b"%PDF-1.7\n"
    objects = head + b"1 0 obj\n" + _CATALOG + b"\nendobj\n"
    offset = len(objects)
    return objects + b"7 0 obj\n" + body + b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % offset


#: name -> generator; every name says what is broken.
CORPUS: dict[str, Callable[[], bytes]] = {
    "page-tree-cycle-self": lambda: build(
        _document(o2=b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>")
    ),
    "page-tree-cycle-two-nodes": lambda: build(
        _document(
            o2=b"<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
            o5=b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
        )
    ),
    "page-tree-kid-is-the-catalog": lambda: build(
        _document(o2=b"<< /Type /Pages /Kids [1 0 R] /Count 1 >>")
    ),
    "page-object-missing": lambda: build(
        _document(o2=b"<< /Type /Pages /Kids [9 0 R] /Count 1 >>")
    ),
    "page-object-is-a-number": lambda: build(_document(o3=b"42")),
    "page-tree-kids-not-an-array": lambda: build(
        _document(o2=b"<< /Type /Pages /Kids 3 0 R /Count 1 >>")
    ),
    "page-tree-no-kids-positive-count": lambda: build(_document(o2=b"<< /Type /Pages /Count 5 >>")),
    "page-count-garbage": lambda: build(
        _document(o2=b"<< /Type /Pages /Kids [3 0 R] /Count (many) >>")
    ),
    "page-count-huge": lambda: build(
        _document(o2=b"<< /Type /Pages /Kids [3 0 R] /Count 99999999999999999999 >>")
    ),
    "pages-missing-from-catalog": lambda: build(_document(o1=b"<< /Type /Catalog >>")),
    "pages-is-a-string": lambda: build(_document(o1=b"<< /Type /Catalog /Pages (no) >>")),
    "root-missing": lambda: build(_document(), trailer=b"/Root 9 0 R"),
    "root-is-an-array": lambda: build(_document(o1=b"[1 2 3]")),
    "deep-nesting-arrays": lambda: build(
        _document(o3=_page(b"/MediaBox [0 0 612 792] /Junk " + _nested(20_000, b"[", b"]")))
    ),
    "deep-nesting-dictionaries": lambda: build(
        _document(o3=_page(b"/MediaBox [0 0 612 792] /Junk " + _nested(20_000, b"<< /A ", b">> ")))
    ),
    "mediabox-garbage-names": lambda: build(_document(o3=_page(b"/MediaBox [/a /b /c /d]"))),
    "mediabox-too-short": lambda: build(_document(o3=_page(b"/MediaBox [0 0]"))),
    "mediabox-not-an-array": lambda: build(_document(o3=_page(b"/MediaBox 612"))),
    "mediabox-huge-numbers": lambda: build(
        _document(o3=_page(b"/MediaBox [0 0 1" + b"0" * 400 + b" 1" + b"0" * 400 + b"]"))
    ),
    "mediabox-missing": lambda: build(_document(o3=_page(b""))),
    "rotate-garbage": lambda: build(_document(o3=_page(b"/MediaBox [0 0 612 792] /Rotate (x)"))),
    "trailer-size-huge": lambda: build(_document(), size=2**31),
    "xref-truncated": _truncated_xref,
    "startxref-past-the-end": _startxref_past_the_end,
    "xref-offsets-shifted": _xref_offsets_shifted,
    "prev-points-at-itself": _prev_loop,
    "encrypted-standard-garbage-keys": _encrypted,
    "encrypted-unknown-handler": _unknown_security_handler,
    "xref-stream-garbage-widths": _xref_stream_garbage_widths,
    "acroform-fields-cycle": lambda: build(
        _document(
            o1=b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>",
            o5=b"<< /FT /Sig /T (Sig1) /Kids [5 0 R] /Parent 5 0 R >>",
        )
    ),
    "acroform-not-a-dictionary": lambda: build(
        _document(o1=b"<< /Type /Catalog /Pages 2 0 R /AcroForm 7 >>")
    ),
    "signature-value-garbage": lambda: build(
        _document(
            o1=b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [5 0 R] >> >>",
            o5=b"<< /FT /Sig /T (Sig1) /V << /Type /Sig /Filter /Adobe.PPKLite "
            b"/SubFilter /ETSI.CAdES.detached /ByteRange [0 -1 99999999 (x)] "
            b"/Contents <zz> >> >>",
        )
    ),
    "header-only": lambda: b"%PDF-1.7\n%%EOF\n",
}


def corpus() -> dict[str, bytes]:
    return {name: make() for name, make in CORPUS.items()}


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for name, data in corpus().items():
        (target / f"{name}.pdf").write_bytes(data)
