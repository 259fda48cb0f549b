"""The ranking chart of a circular 通报: a horizontal bar chart of the ranked units' totals, best
at the top, rendered on the server.

- PDF: reportlab's own graphics (``reportlab.graphics.charts``), drawn straight into the PDF as
  vectors with the Chinese font ``org.pdf.cjk_font()`` picked (embedded when it is a TrueType
  file), so the unit names stay text.
- Word: a PNG from matplotlib (Agg, no display, no network) with the same font file. reportlab
  5 renders bitmaps only through its cairo backend, which needs the cairo system library; Word
  cannot take vector drawings from python-docx. Without a TrueType CJK file (the STSong-Light
  fallback is a PDF-reader font, not a file) the PNG labels the bars with their ranks instead of
  the names, which the ranking table beside it gives.
"""

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm

from org import pdf

if TYPE_CHECKING:
    from .models import Score

BAR = colors.HexColor("#C00000")
WIDTH = 156 * mm  # the text width of GB/T 9704's A4 page
MAX_HEIGHT = 200 * mm
CAPTION = "图 各单位总分"


def ranked(scores: Sequence["Score"]) -> list["Score"]:
    """The ranked scores, best first (the chart's rows)."""
    return [s for s in scores if s.rank is not None and s.total is not None]


def _row_height(count: int) -> float:
    return min(7 * mm, MAX_HEIGHT / max(count, 1))


def drawing(scores: Sequence["Score"], font: pdf.CJKFont | None = None) -> Drawing | None:
    """The chart as a reportlab Drawing (a flowable of the PDF story), None when nothing is ranked."""
    rows = ranked(scores)
    if not rows:
        return None
    font = font or pdf.cjk_font()
    step = _row_height(len(rows))
    size = max(6.0, min(10.0, step * 0.8))
    label_width = 48 * mm
    height = step * len(rows) + 14 * mm
    chart = HorizontalBarChart()
    chart.x, chart.y = label_width, 8 * mm
    chart.width, chart.height = WIDTH - label_width - 14 * mm, step * len(rows)
    # The category axis runs bottom-up: reverse so the first-ranked unit is the top bar.
    bottom_up = list(reversed(rows))
    chart.data = [[float(s.total) for s in bottom_up]]  # type: ignore[arg-type]
    chart.categoryAxis.categoryNames = [f"{s.rank}. {s.unit.name}" for s in bottom_up]
    chart.categoryAxis.labels.fontName = font.name
    chart.categoryAxis.labels.fontSize = size
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = font.name
    chart.valueAxis.labels.fontSize = 8
    chart.bars[0].fillColor = BAR
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%.2f"
    chart.barLabels.fontName = font.name
    chart.barLabels.fontSize = max(5.0, size - 1)
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 2
    out = Drawing(WIDTH, height)
    out.add(String(WIDTH / 2, height - 5 * mm, CAPTION, fontName=font.name, fontSize=11, textAnchor="middle"))
    out.add(chart)
    return out


def png(scores: Sequence["Score"], font: pdf.CJKFont | None = None, dpi: int = 150) -> bytes | None:
    """The same chart as a PNG for the Word document (matplotlib), None when nothing is ranked."""
    rows = ranked(scores)
    if not rows:
        return None
    # Imported here: matplotlib is only needed when a circular is rendered.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = font or pdf.cjk_font()
    props = FontProperties(fname=font.path) if font.embedded and font.path else None
    step = _row_height(len(rows)) / mm / 25.4  # inches per bar
    fig = Figure(figsize=(WIDTH / mm / 25.4, step * len(rows) + 0.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positions = list(range(len(rows)))
    totals = [float(s.total) for s in rows]  # type: ignore[arg-type]
    bars = ax.barh(positions, totals, color="#C00000", height=0.7)
    ax.invert_yaxis()  # the first-ranked unit at the top
    ax.set_xlim(0, 100)
    ax.set_yticks(positions)
    size = max(5.0, min(9.0, step * 72 * 0.7))
    labels = [f"{s.rank}. {s.unit.name}" if props else str(s.rank) for s in rows]
    ax.set_yticklabels(labels, fontproperties=props, fontsize=size)
    ax.bar_label(bars, labels=[f"{t:.2f}" for t in totals], padding=2, fontsize=max(5.0, size - 1))
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # Margins from the longest label (a CJK glyph is about one em wide): tight_layout would
    # measure every text once more, which doubles the rendering time.
    width_pt = fig.get_figwidth() * 72
    label_pt = max(len(label) for label in labels) * size + 12
    height_pt = fig.get_figheight() * 72
    fig.subplots_adjust(
        left=min(0.5, label_pt / width_pt), right=0.93, top=1 - 10 / height_pt, bottom=24 / height_pt
    )
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi)
    return out.getvalue()
