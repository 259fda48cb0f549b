"""The documents of a circular 通报, laid out after GB/T 9704: the issuing authority in red as
the header 红头, a red rule, the document number, the title, the body, the ranking table (with the
movement against the previous period) and the red and black lists, page numbers "— 1 —" in the
footer. ``render``: Word (python-docx); ``render_pdf``: PDF through the shared ``org.pdf``.

Both carry the chart of the ranking (``charts``: vectors in the PDF, a PNG in Word) under the
table and, after the red and black lists, the photos of the worst problems with their captions
(``Photo``: the public copies, re-encoded without metadata, never the originals)."""

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from PIL import Image as PILImage
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Image as PDFImage

from org import pdf

from . import charts

if TYPE_CHECKING:
    from .models import Run, Score

AUTHORITY = "巴州创文办"
PHOTO_HEADING = "四、突出问题"


@dataclass(frozen=True)
class Photo:
    """A photo of a problem for a circular: the image bytes (a public copy) and its caption."""

    data: bytes
    caption: str


RED = RGBColor(0xC0, 0x00, 0x00)


def _font(run, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _paragraph(doc, text: str, name: str = "仿宋_GB2312", size: float = 16, **kw):
    align = kw.pop("align", None)
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    _font(p.add_run(text), name, size, **kw)
    return p


def _red_rule(paragraph) -> None:
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "18"), ("space", "1"), ("color", "C00000")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _page_number(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("— "), "宋体", 14)
    run = p.add_run()
    _font(run, "宋体", 14)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            field = OxmlElement("w:fldChar")
            field.set(qn("w:fldCharType"), kind)
            run._r.append(field)
        else:
            instr = OxmlElement("w:instrText")
            instr.text = text
            run._r.append(instr)
    _font(p.add_run(" —"), "宋体", 14)


def _table(doc, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _font(cell.paragraphs[0].add_run(text), "黑体", 12)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            _font(cell.paragraphs[0].add_run(text), "仿宋_GB2312", 12)


HEADER = ["名次", "单位", "总分", "较上期", "说明"]


def _rows(scores: Sequence["Score"]) -> list[list[str]]:
    return [
        [
            str(s.rank) if s.rank else "—",
            s.unit.name,
            f"{s.total}" if s.total is not None else "—",
            s.movement or "—",
            s.note,
        ]
        for s in scores
    ]


def _heading(run: "Run") -> str:
    at = timezone.localtime(run.at)
    correction = f"（更正版，第{run.version}版）" if run.version > 1 else ""
    return f"一、{run.label}考评排名{correction}（数据截至 {at:%Y年%m月%d日 %H:%M}）"


def _listed(scores: Sequence["Score"]) -> str:
    return "；".join(f"第{s.rank}名 {s.unit.name}（{s.total}分）" for s in scores) or "无"


def _photo_size(data: bytes, max_width: float = 120, max_height: float = 90) -> tuple[float, float]:
    """The printed size in mm of a photo: within max_width × max_height, its proportions kept."""
    with PILImage.open(io.BytesIO(data)) as image:
        w, h = image.size
    scale = min(max_width / w, max_height / h)
    return w * scale, h * scale


def render(
    number: str,
    title: str,
    body: str,
    run: "Run",
    scores: Sequence["Score"],
    lists: tuple[Sequence["Score"], Sequence["Score"]],
    issued_on: dt.date,
    photos: Sequence[Photo] = (),
) -> bytes:
    doc = Document()
    _page_number(doc.sections[0])
    _paragraph(doc, AUTHORITY, "方正小标宋简体", 36, color=RED, align=WD_ALIGN_PARAGRAPH.CENTER)
    _red_rule(_paragraph(doc, number, align=WD_ALIGN_PARAGRAPH.CENTER))
    _paragraph(doc, title, "方正小标宋简体", 22, align=WD_ALIGN_PARAGRAPH.CENTER)
    for line in body.splitlines():
        if line.strip():
            _paragraph(doc, line.strip())
    _paragraph(doc, _heading(run), "黑体", 16)
    _table(doc, HEADER, _rows(scores))
    chart = charts.png(scores)
    if chart is not None:
        doc.add_picture(io.BytesIO(chart), width=Mm(156))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _paragraph(doc, charts.CAPTION, "黑体", 12, align=WD_ALIGN_PARAGRAPH.CENTER)
    red, black = lists
    _paragraph(doc, "二、红榜", "黑体", 16)
    _paragraph(doc, _listed(red))
    _paragraph(doc, "三、黑榜", "黑体", 16)
    _paragraph(doc, _listed(black))
    if photos:
        _paragraph(doc, PHOTO_HEADING, "黑体", 16)
        for photo in photos:
            width, height = _photo_size(photo.data)
            doc.add_picture(io.BytesIO(photo.data), width=Mm(width), height=Mm(height))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _paragraph(doc, photo.caption, "仿宋_GB2312", 12, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(doc, AUTHORITY, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph(doc, f"{issued_on:%Y年%m月%d日}", align=WD_ALIGN_PARAGRAPH.RIGHT)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def render_pdf(
    number: str,
    title: str,
    body: str,
    run: "Run",
    scores: Sequence["Score"],
    lists: tuple[Sequence["Score"], Sequence["Score"]],
    issued_on: dt.date,
    photos: Sequence[Photo] = (),
) -> bytes:
    """The same circular as PDF, in the same order as the Word document."""
    font = pdf.cjk_font()
    st = pdf.styles(font)
    story = [*pdf.red_header(AUTHORITY, number, font), pdf.Paragraph(pdf.escape(title), st["title"])]
    story += [
        pdf.Paragraph(pdf.escape(line.strip()), st["body"]) for line in body.splitlines() if line.strip()
    ]
    story.append(pdf.Paragraph(pdf.escape(_heading(run)), st["heading"]))
    widths = [14 * pdf.mm, 50 * pdf.mm, 18 * pdf.mm, 16 * pdf.mm, 58 * pdf.mm]
    story.append(pdf.table(HEADER, _rows(scores), widths, font))
    chart = charts.drawing(scores, font)
    if chart is not None:
        story += [pdf.Spacer(1, 6), chart]
    red, black = lists
    story += [
        pdf.Paragraph("二、红榜", st["heading"]),
        pdf.Paragraph(pdf.escape(_listed(red)), st["body"]),
        pdf.Paragraph("三、黑榜", st["heading"]),
        pdf.Paragraph(pdf.escape(_listed(black)), st["body"]),
    ]
    if photos:
        story.append(pdf.Paragraph(PHOTO_HEADING, st["heading"]))
        caption = ParagraphStyle("caption", parent=st["small"], alignment=TA_CENTER)
        for photo in photos:
            width, height = _photo_size(photo.data)
            image = PDFImage(io.BytesIO(photo.data), width=width * pdf.mm, height=height * pdf.mm)
            story.append(
                pdf.KeepTogether([image, pdf.Paragraph(pdf.escape(photo.caption), caption), pdf.Spacer(1, 6)])
            )
    story += [
        pdf.Spacer(1, 12),
        pdf.Paragraph(AUTHORITY, st["right"]),
        pdf.Paragraph(f"{issued_on:%Y年%m月%d日}", st["right"]),
    ]
    return pdf.build(story, title=f"{number} {title}", author=AUTHORITY)
