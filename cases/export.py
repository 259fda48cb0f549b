"""XLSX exports of cases: streamed, flat in memory, a fixed number of queries however many rows.

openpyxl's write-only mode keeps no rows in memory (they go to a temporary file as they are
appended); the rows come from one query read in chunks (``iterator``), so neither memory nor the
query count grows with the list. The workbook is built while the response is being sent.
"""

import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator, Sequence

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from . import summary
from .models import Case

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK_ROWS = 2000
CHUNK_BYTES = 64 * 1024

CASE_COLUMNS = [
    "案件编号",
    "来源",
    "类型",
    "大类",
    "小类",
    "状态",
    "紧急",
    "所在区域",
    "所在网格",
    "地址",
    "问题描述",
    "主办单位",
    "上报时间",
    "立案时间",
    "派遣时间",
    "处置时限",
    "处置完成时间",
    "结案时间",
    "当前环节时限",
    "超期",
    "返工次数",
    "退单次数",
    "延期次数",
    "纬度",
    "经度",
]


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: write Beijing wall-clock time."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def case_row(case: Case, now: dt.datetime) -> list:
    return [
        case.number,
        case.get_source_display(),
        case.category.get_kind_display(),
        case.category.major_name,
        case.category.name,
        case.get_status_display(),
        "是" if case.urgent else "",
        case.region.name if case.region else "",
        case.grid.name if case.grid else "",
        case.address,
        case.description,
        case.lead_unit.name if case.lead_unit else "",
        _local(case.reported_at),
        _local(case.accepted_at),
        _local(case.dispatched_at),
        _local(case.handle_deadline),
        _local(case.handled_at),
        _local(case.closed_at),
        _local(case.due_at),
        "是" if case.is_overdue(now) else "",
        case.rework_count,
        case.return_count,
        case.extension_count,
        float(case.lat),
        float(case.lng),
    ]


def case_rows(qs: QuerySet[Case]) -> Iterator[list]:
    now = timezone.now()
    rows = qs.select_related("category", "region", "grid", "lead_unit").order_by("reported_at", "pk")
    for case in rows.iterator(chunk_size=CHUNK_ROWS):
        yield case_row(case, now)


def _cells(ws, values: Sequence) -> list:
    """Plain values as they are (fast); text that looks like a formula stays text."""
    cells = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(ws, value=value)
            cell.data_type = "s"  # text typed by people is never a formula
            value = cell
        cells.append(value)
    return cells


def stream_workbook(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]]) -> Iterator[bytes]:
    """Build a write-only workbook of ``(title, header, rows)`` sheets and yield its bytes."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = workbook.create_sheet(title=title)
        ws.append(list(header))
        for row in rows:
            ws.append(_cells(ws, row))
    with tempfile.TemporaryFile() as out:
        workbook.save(out)
        out.seek(0)
        while chunk := out.read(CHUNK_BYTES):
            yield chunk


def xlsx_response(chunks: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def cases_response(qs: QuerySet[Case], filename: str) -> StreamingHttpResponse:
    """The cases of ``qs`` (already scope-limited and filtered) as a streamed XLSX download."""
    return xlsx_response(stream_workbook([("案件", CASE_COLUMNS, case_rows(qs))]), filename)


def summary_response(result: summary.Summary, filename: str) -> StreamingHttpResponse:
    """The monthly summary as XLSX: one sheet per table, the same figures as the page."""
    header = list(summary.FIGURES.values())
    period = f"{timezone.localtime(result.start):%Y-%m}（截至 {_local(result.at):%Y-%m-%d %H:%M}）"

    def rows(table: list[summary.Row], name) -> Iterator[list]:
        for row in table:
            yield [name(row.obj), *row.values]

    sheets = [
        ("合计", ["统计期", *header], [[period, *(result.totals[f] for f in summary.FIGURES)]]),
        ("按责任单位", ["责任单位", *header], rows(result.units, lambda u: u.name)),
        ("按区域", ["街道/乡镇", *header], rows(result.regions, lambda r: r.name)),
        ("按类别", ["类别", *header], rows(result.categories, lambda c: f"{c.major_name} / {c.name}")),
        (
            "最差类别",
            ["类别", *header],
            rows(result.worst_categories, lambda c: f"{c.major_name} / {c.name}"),
        ),
        ("最差区域", ["社区/村", *header], rows(result.worst_areas, lambda r: r.name)),
    ]
    return xlsx_response(stream_workbook(sheets), filename)
