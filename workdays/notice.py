"""The State Council's holiday notice as a table 节假日安排表: one row per holiday or adjusted
working day span, the same four columns in the page's text box and in XLSX, both ways.

    开始日期    结束日期    安排    名称
    2027-02-06  2027-02-13  放假    春节
    2027-02-14  2027-02-14  上班    春节调休

Strict: dates as YYYY-MM-DD (or Excel dates) inside the year, 安排 is 放假 or 上班, spans of at
most 31 days that do not overlap. Any error rejects the whole table.
"""

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

COLUMNS = ["开始日期", "结束日期", "安排", "名称"]
KINDS = {"放假": False, "上班": True}
MAX_ROWS = 200
NAME_LENGTH = 50  # CalendarDay.name
NOT_XLSX = "文件不是有效的 XLSX 工作簿，请在 Excel 或 WPS 中另存为 .xlsx 后重新上传"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class NoticeRow:
    start: dt.date
    end: dt.date
    is_workday: bool
    name: str

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


class NoticeError(ValueError):
    def __init__(self, errors: list[str]):
        super().__init__("；".join(errors))
        self.errors = errors


def _date(value, year: int) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        text = str(value or "").strip().replace("/", "-")
        try:
            value = dt.date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"日期“{text}”应为 YYYY-MM-DD") from exc
    if value.year != year:
        raise ValueError(f"日期 {value} 不在 {year} 年内")
    return value


def parse_rows(raw: Iterable[Sequence], year: int, first_line: int = 1) -> list[NoticeRow]:
    """Checked rows of (start, end, kind, name) values, or NoticeError naming every bad line."""
    rows: list[tuple[int, NoticeRow]] = []
    errors: list[str] = []
    for number, values in enumerate(raw, start=first_line):
        values = list(values) + [None] * (4 - len(values))
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(f"最多 {MAX_ROWS} 行")
            break
        start, end, kind, name = values[:4]
        name = CONTROL.sub("", str(name or "")).strip()
        kind = str(kind or "").strip()
        try:
            if kind not in KINDS:
                raise ValueError(f"安排应为“放假”或“上班”，实际为“{kind}”")
            row = NoticeRow(_date(start, year), _date(end or start, year), KINDS[kind], name)
            if row.end < row.start or (row.end - row.start).days > 30:
                raise ValueError("结束日期应在开始日期当天或之后，且不超过 31 天")
            if len(name) > NAME_LENGTH:
                raise ValueError(f"名称不能超过 {NAME_LENGTH} 个字")
        except ValueError as exc:
            errors.append(f"第 {number} 行：{exc}")
            continue
        rows.append((number, row))
    seen: dict[dt.date, int] = {}
    for number, row in rows:
        for day in row.days():
            if day in seen:
                errors.append(f"第 {number} 行：{day} 与第 {seen[day]} 行重复")
                break
            seen[day] = number
    if errors:
        raise NoticeError(errors)
    if not rows:
        raise NoticeError(["表格为空"])
    return [row for _, row in rows]


def rows_from_text(text: str, year: int) -> list[NoticeRow]:
    """The page's text box: one row per line, columns separated by tabs, commas or spaces (a
    table pasted from a spreadsheet works); a header line is skipped."""
    lines = [re.split(r"[\t,，]+|\s{1,}", line.strip(), maxsplit=3) for line in text.splitlines()]
    if lines and [c.strip() for c in lines[0]] == COLUMNS:
        return parse_rows(lines[1:], year, first_line=2)
    return parse_rows(lines, year)


def rows_from_xlsx(file, year: int) -> list[NoticeRow]:
    """The first sheet of an XLSX workbook whose header is exactly the four columns."""
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise NoticeError([NOT_XLSX]) from exc
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(v or "").strip() for v in next(rows, ())][:4]
        if header != COLUMNS:
            raise NoticeError([f"第 1 行表头应为：{'、'.join(COLUMNS)}，实际为：{'、'.join(header)}"])
        return parse_rows(rows, year, first_line=2)
    finally:
        workbook.close()


def to_xlsx(rows: Iterable[NoticeRow]) -> io.BytesIO:
    """The table as XLSX in the import layout (every cell text), so it re-imports unchanged."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "节假日安排"
    sheet.append(COLUMNS)
    for row in rows:
        values = [row.start.isoformat(), row.end.isoformat(), "上班" if row.is_workday else "放假", row.name]
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"  # a name starting with = + - @ stays text, never a formula
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def spans(days: Iterable[tuple[dt.date, bool, str]]) -> list[NoticeRow]:
    """Consecutive days of the same kind and name as one row (the table of a stored year)."""
    rows: list[NoticeRow] = []
    for day, work, name in sorted(days):
        last = rows[-1] if rows else None
        if last and last.end + dt.timedelta(days=1) == day and (last.is_workday, last.name) == (work, name):
            rows[-1] = NoticeRow(last.start, day, work, name)
        else:
            rows.append(NoticeRow(day, day, work, name))
    return rows
