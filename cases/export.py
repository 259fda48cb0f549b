"""XLSX exports of cases: streamed, flat in memory, a fixed number of queries however many rows.

The rows come from one query read in chunks (``iterator``) as plain values (``values_list``: no
model objects), and go to XlsxWriter in ``constant_memory`` mode, which writes each row to a
temporary file as soon as the next one starts; so neither memory nor the query count grows with
the list. XlsxWriter rather than openpyxl's write-only mode: about twice the rows per second
with cells written by type (see docs/architecture.md). The workbook is built while the response
is being sent.
"""

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal

import xlsxwriter
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from org.sheets import XLSXWRITER_OPTIONS

from . import monthly_summary
from .models import Case, Category

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


# The columns read for each case, in the order of CASE_COLUMNS (names, not model objects).
CASE_FIELDS = (
    "number",
    "source",
    "category__kind",
    "category__major_name",
    "category__name",
    "status",
    "urgent",
    "region__name",
    "grid__name",
    "address",
    "description",
    "lead_unit__name",
    "reported_at",
    "accepted_at",
    "dispatched_at",
    "handle_deadline",
    "handled_at",
    "closed_at",
    "due_at",
    "rework_count",
    "return_count",
    "extension_count",
    "lat",
    "lng",
)


def case_rows(qs: QuerySet[Case]) -> Iterator[list]:
    """One row per case of ``qs`` in the columns of CASE_COLUMNS, oldest first."""
    now = timezone.now()
    zone = timezone.get_current_timezone()
    sources, statuses = dict(Case.Source.choices), dict(Case.Status.choices)
    kinds = dict(Category.Kind.choices)
    timed = set(Case.TIMED_STATUSES)

    def local(moment: dt.datetime | None) -> dt.datetime | None:
        return moment.astimezone(zone).replace(tzinfo=None) if moment is not None else None

    values = qs.order_by("reported_at", "pk").values_list(*CASE_FIELDS)
    for (
        number,
        source,
        kind,
        major_name,
        name,
        status,
        urgent,
        region,
        grid,
        address,
        description,
        lead_unit,
        reported_at,
        accepted_at,
        dispatched_at,
        handle_deadline,
        handled_at,
        closed_at,
        due_at,
        rework_count,
        return_count,
        extension_count,
        lat,
        lng,
    ) in values.iterator(chunk_size=CHUNK_ROWS):
        yield [
            number,
            sources.get(source, source),
            kinds.get(kind, kind),
            major_name,
            name,
            statuses.get(status, status),
            "是" if urgent else "",
            region or "",
            grid or "",
            address,
            description,
            lead_unit or "",
            local(reported_at),
            local(accepted_at),
            local(dispatched_at),
            local(handle_deadline),
            local(handled_at),
            local(closed_at),
            local(due_at),
            "是" if status in timed and due_at is not None and due_at < now else "",
            rework_count,
            return_count,
            extension_count,
            float(lat),
            float(lng),
        ]


DATETIME_FORMAT = "yyyy-mm-dd h:mm:ss"  # what openpyxl wrote before, so the files read the same


def stream_workbook(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]]) -> Iterator[bytes]:
    """Build a workbook of ``(title, header, rows)`` sheets and yield its bytes.

    Cells are written by the type of their value: text always as text (never a formula, a link
    or a number), empty text and None as empty cells, datetimes with a date format."""
    with tempfile.TemporaryFile() as out:
        # Text as text (org.sheets.XLSXWRITER_OPTIONS): never a formula, a link or a number.
        workbook = xlsxwriter.Workbook(out, {"constant_memory": True, **XLSXWRITER_OPTIONS})
        date_format = workbook.add_format({"num_format": DATETIME_FORMAT})
        for title, header, rows in sheets:
            ws = workbook.add_worksheet(title)
            text, number, moment = ws.write_string, ws.write_number, ws.write_datetime

            def write_moment(r: int, c: int, value: dt.datetime, moment=moment) -> None:
                moment(r, c, value, date_format)

            writers: dict[type, Callable] = {
                str: text,
                int: number,
                float: number,
                Decimal: number,
                dt.datetime: write_moment,
            }
            for c, value in enumerate(header):
                text(0, c, str(value))
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    write = writers.get(type(value))
                    if write is None:
                        ws.write(r, c, value)
                    else:
                        write(r, c, value)
        workbook.close()
        out.seek(0)
        while chunk := out.read(CHUNK_BYTES):
            yield chunk


def xlsx_response(chunks: Iterator[bytes], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def cases_response(qs: QuerySet[Case], filename: str) -> StreamingHttpResponse:
    """The cases of ``qs`` (already scope-limited and filtered) as a streamed XLSX download."""
    return xlsx_response(stream_workbook([("案件", CASE_COLUMNS, case_rows(qs))]), filename)


def summary_response(result: monthly_summary.Summary, filename: str) -> StreamingHttpResponse:
    """The monthly summary as XLSX: one sheet per table, the same figures as the page."""
    header = list(monthly_summary.FIGURES.values())
    period = f"{timezone.localtime(result.start):%Y-%m}（截至 {_local(result.at):%Y-%m-%d %H:%M}）"

    def rows(table: list[monthly_summary.Row], name) -> Iterator[list]:
        for row in table:
            yield [name(row.obj), *row.values]

    sheets = [
        ("合计", ["统计期", *header], [[period, *(result.totals[f] for f in monthly_summary.FIGURES)]]),
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
