"""PDF documents with Chinese text, shared by every app (reportlab).

Chinese needs a CJK font. ``cjk_font()`` picks, in this order:

1. the TrueType file named by the setting ``PDF_CJK_FONT`` (a ``.ttf``, or a ``.ttc`` collection
   whose first face is used); a path that cannot be read is a configuration error;
2. Debian's WenQuanYi fonts when installed (``fonts-wqy-microhei``, ``fonts-wqy-zenhei``);
3. reportlab's built-in CID font STSong-Light.

1 and 2 are embedded (as a subset of the glyphs used): the PDF shows the same everywhere. The CID
font is *not* embedded — the PDF names Adobe's "STSong-Light" and the reader substitutes a Chinese
font of its own, so the text is right (and extractable) but the glyphs depend on the reader. It
keeps ``make demo`` and the tests working on a machine without Chinese fonts.

``build`` lays a story out on A4 with the margins of GB/T 9704 and the page number "— 1 —" at the
bottom; ``red_header`` and ``table`` are the official document's pieces.
"""

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

DEBIAN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
CID_FONT = "STSong-Light"
RED = colors.HexColor("#C00000")

__all__ = [
    "KeepTogether",
    "Paragraph",
    "Spacer",
    "build",
    "cjk_font",
    "escape",
    "mm",
    "red_header",
    "styles",
    "table",
]


@dataclass(frozen=True)
class CJKFont:
    name: str  # the name registered with reportlab
    embedded: bool
    path: str = ""  # the TrueType file, when embedded


def cjk_font() -> CJKFont:
    """The Chinese font to write with (see the module's docstring), registered once."""
    configured = getattr(settings, "PDF_CJK_FONT", "") or ""
    if configured:
        if not os.path.isfile(configured):
            raise ImproperlyConfigured(f"PDF_CJK_FONT names no readable font file: {configured}")
        return _truetype(configured)
    for path in DEBIAN_FONTS:
        if os.path.isfile(path):
            return _truetype(path)
    if CID_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CJKFont(CID_FONT, embedded=False)


def _truetype(path: str) -> CJKFont:
    name = "CJK-" + os.path.splitext(os.path.basename(path))[0]
    if name not in pdfmetrics.getRegisteredFontNames():
        try:
            font = TTFont(name, path, subfontIndex=0)  # the first face of a .ttc; a .ttf has one
        except Exception as exc:  # reportlab raises its own TTFError and IOError kinds
            raise ImproperlyConfigured(f"cannot read the Chinese font {path}: {exc}") from exc
        pdfmetrics.registerFont(font)
    return CJKFont(name, embedded=True, path=path)


def styles(font: CJKFont | None = None) -> dict[str, ParagraphStyle]:
    """Paragraph styles after GB/T 9704: 3号 (16 pt) body with a two-character first-line indent,
    2号 (22 pt) title, a large red authority name; CJK line breaking everywhere."""
    name = (font or cjk_font()).name
    base = ParagraphStyle("body", fontName=name, fontSize=16, leading=28, wordWrap="CJK", firstLineIndent=32)
    return {
        "body": base,
        "plain": ParagraphStyle("plain", parent=base, firstLineIndent=0),
        "authority": ParagraphStyle(
            "authority",
            parent=base,
            fontSize=36,
            leading=48,
            alignment=TA_CENTER,
            textColor=RED,
            firstLineIndent=0,
        ),
        "number": ParagraphStyle("number", parent=base, alignment=TA_CENTER, firstLineIndent=0),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontSize=22,
            leading=34,
            alignment=TA_CENTER,
            firstLineIndent=0,
            spaceBefore=12,
        ),
        "heading": ParagraphStyle("heading", parent=base, firstLineIndent=32, spaceBefore=6),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT, firstLineIndent=0),
        "cell": ParagraphStyle(
            "cell", parent=base, fontSize=11, leading=15, firstLineIndent=0, alignment=TA_LEFT
        ),
        "small": ParagraphStyle("small", parent=base, fontSize=10, leading=14, firstLineIndent=0),
    }


def red_header(authority: str, number: str, font: CJKFont | None = None) -> list[Flowable]:
    """The issuing authority in red 红头, the document number, the red rule below them."""
    st = styles(font)
    return [
        Paragraph(escape(authority), st["authority"]),
        Spacer(1, 6 * mm),
        Paragraph(escape(number), st["number"]),
        HRFlowable(width="100%", thickness=2, color=RED, spaceBefore=2, spaceAfter=8),
    ]


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float] | None = None, font=None
) -> Table:
    """A ruled table whose cells wrap Chinese text; the header row repeats on each page."""
    st = styles(font)
    data = [[Paragraph(escape(h), st["cell"]) for h in header]]
    data += [[Paragraph(escape(c), st["cell"]) for c in row] for row in rows]
    out = Table(data, colWidths=list(widths) if widths else None, repeatRows=1)
    out.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return out


def escape(text: str) -> str:
    """Paragraph text is a small markup language: escape the characters it reads as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build(story: Sequence[Flowable], *, title: str, author: str = "", page_numbers: bool = True) -> bytes:
    """Lay the story out on A4 (GB/T 9704 margins: top 37 mm, left 28 mm, right 26 mm, bottom
    35 mm) with "— n —" at the foot of each page, and return the PDF's bytes."""
    font = cjk_font()
    out = io.BytesIO()

    def footer(canvas, doc) -> None:
        if page_numbers:
            canvas.saveState()
            canvas.setFont(font.name, 14)
            canvas.drawCentredString(A4[0] / 2, 20 * mm, f"— {doc.page} —")
            canvas.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        topMargin=37 * mm,
        leftMargin=28 * mm,
        rightMargin=26 * mm,
        bottomMargin=35 * mm,
        title=title,
        author=author,
        invariant=True,
    )
    doc.build(list(story), onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
