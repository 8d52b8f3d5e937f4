"""The visible seal stamp: its text, the font that draws it, and where it may go."""

from __future__ import annotations

import textwrap
from io import BytesIO
from typing import Any, Final

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, ShapeResult
from pyhanko.pdf_utils.font.basic import COURIER_META, SimpleFontEngine, SimpleFontEngineFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.rw_common import find_inherited_value_in_tree
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import TextStampStyle

from notarium.products.pdf_seal.errors import InvalidStampError

STAMP_TEXT: Final = "Sealed by %(organisation)s\nTime: %(ts)s\nReason: %(reason)s"
#: Characters per line of the reason on the stamp; pyHanko shrinks a text box that does
#: not fit, so one long line would leave the whole stamp unreadably small.
REASON_LINE: Final = 60


class _WinAnsiEngine(SimpleFontEngine):
    """Courier, declared by pyHanko with ``/WinAnsiEncoding``, fed text in that encoding.

    pyHanko's engine writes text as a PDF text string (PDFDocEncoding), which matches
    WinAnsi only on ASCII and Latin-1: an en dash came out as an ellipsis, and text
    outside PDFDocEncoding as UTF-16 bytes drawn one glyph per byte. Characters WinAnsi
    lacks become "?"; the full text stays in the signature's /Reason.
    """

    def shape(self, txt: str) -> ShapeResult:
        ops = BytesIO()
        generic.ByteStringObject(txt.encode("cp1252", errors="replace")).write_to_stream(ops)
        ops.write(b" Tj")
        # One byte per character, so Courier's fixed advance still measures the line.
        return ShapeResult(
            graphics_ops=ops.getvalue(), x_advance=len(txt) * self.avg_width, y_advance=0
        )


class _WinAnsiCourier(SimpleFontEngineFactory):
    def __init__(self) -> None:
        super().__init__("Courier", 0.6, COURIER_META)

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: Any = None) -> FontEngine:
        return _WinAnsiEngine(writer, self.name, self.avg_width, self.meta)


def stamp_style() -> TextStampStyle:
    return TextStampStyle(
        stamp_text=STAMP_TEXT,
        border_width=1,
        text_box_style=TextBoxStyle(font=_WinAnsiCourier()),
    )


def stamp_text_params(organisation: str, reason: str | None) -> dict[str, Any]:
    """Values for :data:`STAMP_TEXT` other than the time, which pyHanko fills in."""
    words = " ".join((reason or "").split())
    wrapped = textwrap.fill(words, REASON_LINE, subsequent_indent="        ") if words else "-"
    return {"organisation": organisation, "reason": wrapped}


def check_stamp(
    writer: IncrementalPdfFileWriter, page: int, rect: tuple[int, int, int, int]
) -> None:
    """Refuse a stamp on a page the document lacks, or not wholly inside the page's
    visible area (its CropBox, else its MediaBox), where no reader would show it."""
    count = int(writer.root["/Pages"]["/Count"])
    if not -count <= page < count:
        raise InvalidStampError(
            f"page {page} is outside a {count}-page document (pages count from 0; "
            "negative numbers count from the end)"
        )
    x1, y1, x2, y2 = rect
    if x2 <= x1 or y2 <= y1:
        raise InvalidStampError("the stamp rectangle must have a positive width and height")
    page_ref, _resources = writer.find_page_for_modification(page)  # type: ignore[no-untyped-call]
    page_dict = page_ref.get_object()
    box = find_inherited_value_in_tree(page_dict, "/CropBox", "/Parent")  # type: ignore[no-untyped-call]
    if box is None:
        box = find_inherited_value_in_tree(page_dict, "/MediaBox", "/Parent")  # type: ignore[no-untyped-call]
    if box is None:
        return
    llx, urx = sorted((float(box[0]), float(box[2])))
    lly, ury = sorted((float(box[1]), float(box[3])))
    if x1 < llx or y1 < lly or x2 > urx or y2 > ury:
        raise InvalidStampError(
            f"the stamp rectangle ({x1}, {y1}, {x2}, {y2}) must lie within page {page}, "
            f"which spans ({llx:g}, {lly:g}, {urx:g}, {ury:g}) in points"
        )
