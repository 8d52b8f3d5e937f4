"""Lays a certificate out on A4 pages with reportlab's platypus: unsigned PDF bytes.

Text comes from records and from users (file names, captured URLs), so every value is
escaped before it reaches platypus' paragraph markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from io import BytesIO
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import Image as ImageFlowable

from notarium.products.certificate_pdf.facts import CertificateFacts, Field, Section
from notarium.products.certificate_pdf.facts import Table as TableSpec
from notarium.products.certificate_pdf.wording import (
    anchor_kind,
    anchor_place,
    anchor_state,
    byte_count,
    status_text,
    utc,
)

MARGIN: Final = 18 * mm
# platypus frames pad their content by 6 pt on every side.
FRAME_PADDING: Final = 6
CONTENT_WIDTH: Final = A4[0] - 2 * MARGIN
LABEL_WIDTH: Final = 38 * mm
QR_SIZE: Final = 36 * mm

SANS: Final = "NotariumSans"
SANS_BOLD: Final = "NotariumSans-Bold"
MONO: Final = "Courier"
MONO_BOLD: Final = "Courier-Bold"

INK: Final = colors.HexColor("#1a1a1a")
MUTED: Final = colors.HexColor("#5c5c5c")
RULE: Final = colors.HexColor("#c8c8c8")
TONES: Final = {
    "good": (colors.HexColor("#e6f4ea"), colors.HexColor("#1e6b34")),
    "progress": (colors.HexColor("#fff4d6"), colors.HexColor("#7a5600")),
    "bad": (colors.HexColor("#fde8e6"), colors.HexColor("#9b1c1c")),
}

_BACKQUOTED = re.compile(r"`([^`]+)`")


def _register_fonts() -> None:
    # Bitstream Vera ships inside reportlab, so the layout never depends on the fonts a
    # host happens to have; embedded as a subset, it also keeps text extractable.
    if SANS in pdfmetrics.getRegisteredFontNames():
        return
    fonts = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(SANS, str(fonts / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(SANS_BOLD, str(fonts / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(SANS, normal=SANS, bold=SANS_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=SANS, fontSize=9.5, leading=12.5, textColor=INK)
    return {
        "base": base,
        "org": ParagraphStyle("org", base, fontSize=9, textColor=MUTED, spaceAfter=3),
        "title": ParagraphStyle("title", base, fontName=SANS_BOLD, fontSize=20, leading=24),
        "id": ParagraphStyle(
            "id", base, fontName=MONO_BOLD, fontSize=15, leading=19, spaceBefore=4
        ),
        "heading": ParagraphStyle(
            "heading",
            base,
            keepWithNext=1,
            fontName=SANS_BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=9,
            spaceAfter=3,
        ),
        "label": ParagraphStyle("label", base, fontSize=8.5, leading=12, textColor=MUTED),
        "mono": ParagraphStyle("mono", base, fontName=MONO, fontSize=8.8, leading=12),
        "mono_cell": ParagraphStyle("mono_cell", base, fontName=MONO, fontSize=7.8, leading=10),
        "step": ParagraphStyle("step", base, fontSize=8.8, leading=11.4),
        "small": ParagraphStyle("small", base, fontSize=8, leading=10.5, textColor=MUTED),
        "caption": ParagraphStyle(
            "caption", base, fontSize=7.5, leading=9, textColor=MUTED, alignment=TA_CENTER
        ),
        "status": ParagraphStyle("status", base, fontName=SANS_BOLD, fontSize=12, leading=15),
    }


def text(value: str) -> str:
    """Escape a value for paragraph markup; backquoted spans become monospaced."""
    parts = _BACKQUOTED.split(value)
    out = []
    for index, part in enumerate(parts):
        escaped = escape(part)
        out.append(f'<font face="{MONO}">{escaped}</font>' if index % 2 else escaped)
    return "".join(out)


class _Renderer:
    def __init__(self, facts: CertificateFacts) -> None:
        self.facts = facts
        self.styles = _styles()

    # -- building blocks ---------------------------------------------------------

    def para(self, markup: str, style: str = "base") -> Paragraph:
        return Paragraph(markup, self.styles[style])

    def fields(self, rows: Sequence[Field]) -> Table:
        data = [
            [
                self.para(escape(f.label), "label"),
                self.para(escape(f.value), "mono") if f.mono else self.para(text(f.value)),
            ]
            for f in rows
        ]
        table = Table(data, colWidths=[LABEL_WIDTH, CONTENT_WIDTH - LABEL_WIDTH])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return table

    def heading(self, title: str) -> list[Flowable]:
        # keepWithNext rather than a nested KeepTogether: platypus measures a
        # KeepTogether inside another as unboundedly tall and pushes it to a new page.
        rule = Table([[""]], colWidths=[CONTENT_WIDTH], rowHeights=[0.6])
        rule.setStyle(TableStyle([("LINEABOVE", (0, 0), (-1, -1), 0.6, RULE)]))
        rule.keepWithNext = True
        return [Spacer(1, 4), rule, self.para(escape(title), "heading")]

    def qr(self, value: str) -> Drawing:
        widget = QrCodeWidget(value, barLevel="M", barBorder=2, barWidth=QR_SIZE, barHeight=QR_SIZE)
        drawing = Drawing(QR_SIZE, QR_SIZE)
        drawing.add(widget)
        return drawing

    # -- sections ------------------------------------------------------------------

    def header(self) -> list[Flowable]:
        facts = self.facts
        left: list[Flowable] = [
            self.para(escape(facts.organisation), "org"),
            self.para(escape(facts.title), "title"),
            self.para(escape(facts.certificate_id), "id"),
            Spacer(1, 4),
            self.para("Certificate ID. Look it up at the address below or scan the code.", "small"),
        ]
        right: list[Flowable] = [self.qr(facts.verify_url), self.para("Scan to verify", "caption")]
        table = Table(
            [[left, right]],
            colWidths=[CONTENT_WIDTH - QR_SIZE - 4 * mm, QR_SIZE + 4 * mm],
        )
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ]
            )
        )
        return [table, Spacer(1, 6), self.status_band()]

    def status_band(self) -> Table:
        status = status_text(self.facts)
        fill, ink = TONES[status.tone]
        headline = ParagraphStyle("headline", self.styles["status"], textColor=ink)
        cell = [
            Paragraph(escape(f"Status: {status.headline}"), headline),
            Spacer(1, 2),
            self.para(escape(status.explanation)),
        ]
        band = Table([[cell]], colWidths=[CONTENT_WIDTH])
        band.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), fill),
                    ("LINEBEFORE", (0, 0), (0, -1), 3, ink),
                    ("LEFTPADDING", (0, 0), (-1, -1), 8),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                    ("TOPPADDING", (0, 0), (-1, -1), 6),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
                ]
            )
        )
        return band

    def document(self) -> list[Flowable]:
        facts = self.facts
        rows = []
        if facts.filename is not None:
            rows.append(Field("File name", facts.filename))
        if facts.file_size_bytes is not None:
            rows.append(Field("Size", byte_count(facts.file_size_bytes)))
        if facts.file_type:
            rows.append(Field("Type", facts.file_type))
        rows.append(Field("SHA-256", facts.sha256, mono=True))
        rows.append(Field("Record ID", facts.record_id, mono=True))
        return [*self.heading("The file"), self.fields(rows)]

    def time(self) -> list[Flowable]:
        facts = self.facts
        rows = [
            Field("Recorded (UTC)", utc(facts.created_at)),
            Field(
                "RFC 3161 time",
                f"{utc(facts.token_time, millis=True)}, token serial {facts.tsa_serial}, "
                f"time-stamp authority of {facts.organisation}",
            ),
        ]
        if facts.confirmed_at is not None:
            rows.append(Field("Confirmed (UTC)", utc(facts.confirmed_at)))
        return [*self.heading("Time"), self.fields(rows)]

    def anchors(self) -> list[Flowable]:
        facts = self.facts
        if not facts.anchors:
            note = (
                "None yet: the record joins the next batch, which is anchored to public "
                "ledgers (OpenTimestamps calendars, and Bitcoin or external time-stamp "
                "authorities where the operator configured them)."
            )
            return [*self.heading("Anchors"), self.para(escape(note))]
        rows: list[Field] = []
        for anchor in facts.anchors:
            place = anchor_place(anchor)
            lines = (
                [] if place is None else [f'<font face="{MONO}" size="8.3">{escape(place)}</font>']
            )
            lines.append(escape(_sentence(anchor_state(anchor))))
            if anchor.bitcoin_txid:
                lines.append(
                    f'Transaction <font face="{MONO}" size="8.3">{escape(anchor.bitcoin_txid)}'
                    "</font>"
                )
            block = []
            if anchor.bitcoin_height is not None:
                block.append(f"Bitcoin block {anchor.bitcoin_height:,}")
            if anchor.bitcoin_time is not None:
                block.append(f"block time {utc(anchor.bitcoin_time)}")
            if block:
                lines.append(escape(", ".join(block)))
            rows.append(Field(anchor_kind(anchor), "<br/>".join(lines)))
        data = [[self.para(escape(r.label), "label"), self.para(r.value)] for r in rows]
        table = Table(data, colWidths=[LABEL_WIDTH, CONTENT_WIDTH - LABEL_WIDTH])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                    ("LINEBELOW", (0, 0), (-1, -2), 0.3, RULE),
                ]
            )
        )
        return [*self.heading("Anchors"), table]

    def log(self) -> list[Flowable]:
        entry = self.facts.log_entry
        if entry is None:
            return []
        rows = [Field("Log", entry.origin, mono=True), Field("Leaf index", f"{entry.index:,}")]
        rows.append(
            Field(
                "Inclusion",
                "in a signed checkpoint; the embedded proof carries the inclusion proof"
                if entry.in_checkpoint
                else "awaiting the next signed checkpoint",
            )
        )
        return [*self.heading("Transparency log"), self.fields(rows)]

    def section(self, section: Section) -> list[Flowable]:
        parts: list[Flowable] = [*self.heading(section.heading)]
        if section.fields:
            parts.append(self.fields(section.fields))
        parts.extend(self.para(text(p)) for p in section.paragraphs)
        if section.table is not None:
            parts.append(Spacer(1, 3))
            parts.append(self.table(section.table))
        if section.image is not None:
            parts.append(Spacer(1, 4))
            parts.extend(self.image(section.image.png, section.image.max_height_mm))
            if section.image.caption:
                parts.append(self.para(escape(section.image.caption), "caption"))
        return parts

    def table(self, spec: TableSpec) -> Table:
        width = CONTENT_WIDTH / max(1, len(spec.columns))
        header = [self.para(f"<b>{escape(c)}</b>", "label") for c in spec.columns]
        body = [
            [
                self.para(escape(cell), "mono_cell")
                if index in spec.mono_columns
                else self.para(escape(cell))
                for index, cell in enumerate(row)
            ]
            for row in spec.rows
        ]
        widths = _column_widths(spec)
        table = Table([header, *body], colWidths=widths or [width] * len(spec.columns))
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
                    ("LINEBELOW", (0, 1), (-1, -2), 0.3, RULE),
                ]
            )
        )
        return table

    def image(self, png: bytes, max_height_mm: float) -> list[Flowable]:
        reader = ImageReader(BytesIO(png))
        width, height = reader.getSize()
        scale = min(CONTENT_WIDTH / width, max_height_mm * mm / height)
        return [ImageFlowable(BytesIO(png), width=width * scale, height=height * scale)]

    def verification(self, instructions: Sequence[str]) -> list[Flowable]:
        steps: list[Flowable] = [
            *self.heading("Verify this certificate"),
            self.fields([Field("Online", self.facts.verify_url, mono=True)]),
            Spacer(1, 3),
            self.para("Without this service:", "base"),
            ListFlowable(
                [ListItem(self.para(text(step), "step"), leftIndent=12) for step in instructions],
                bulletType="1",
                bulletFontName=SANS,
                bulletFontSize=8.8,
                leftIndent=12,
            ),
        ]
        # The address and the steps read as one unit, so they move to the next page whole.
        return [KeepTogether(steps)]


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


def _column_widths(spec: TableSpec) -> list[float] | None:
    # Monospaced columns (hashes) take what they need; the others share the rest.
    count = len(spec.columns)
    if not spec.mono_columns or len(spec.mono_columns) == count:
        return None
    # Room for a SHA-256 in hex on one line: 64 characters of 0.6 em at 7.8 pt.
    mono_width = min(64 * 0.6 * 7.8 + 8, CONTENT_WIDTH * 0.65 / len(spec.mono_columns))
    rest = (CONTENT_WIDTH - mono_width * len(spec.mono_columns)) / (count - len(spec.mono_columns))
    return [mono_width if i in spec.mono_columns else rest for i in range(count)]


def render_certificate(
    facts: CertificateFacts,
    *,
    sections: Sequence[Section] = (),
    instructions: Sequence[str] = (),
) -> bytes:
    """The certificate as unsigned PDF bytes, one or two A4 pages for a record's own
    facts (more if the extra sections need them)."""
    _register_fonts()
    renderer = _Renderer(facts)
    story: list[Flowable] = []
    story += renderer.header()
    for section in sections:
        if section.leading:
            story += renderer.section(section)
    story += renderer.document()
    story += renderer.time()
    story += renderer.anchors()
    story += renderer.log()
    for section in sections:
        if not section.leading:
            story += renderer.section(section)
    story += renderer.verification(instructions)

    out = BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN - FRAME_PADDING,
        rightMargin=MARGIN - FRAME_PADDING,
        topMargin=MARGIN - FRAME_PADDING,
        bottomMargin=MARGIN + 6 * mm - FRAME_PADDING,
        title=f"{facts.title} {facts.certificate_id}",
        author=facts.organisation,
        subject=f"SHA-256 {facts.sha256}",
        creator="notarium",
        invariant=False,
    )

    def footer(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(SANS, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(
            MARGIN,
            MARGIN - 2 * mm,
            f"{facts.title} {facts.certificate_id} \u00b7 sealed by {facts.organisation}",
        )
        canvas.drawRightString(A4[0] - MARGIN, MARGIN - 2 * mm, f"Page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
