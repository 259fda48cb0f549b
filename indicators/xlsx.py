"""XLSX import and export of an index system (测评体系), and the printable 责任分解表.

The index system sheet has one row per criterion (测评标准), carrying its item (测评内容) and
project (测评项目) on the same row. The import is validated as a whole before anything is
written: codes (format, uniqueness, each code under its parent's code), tree integrity (one name
and one parent per code), points adding up (criteria to their item, items to their project),
method and frequency. Every error names row and column; a file with any error imports nothing.
The file is read through ``org.sheets`` (the reading layer of every import): the project and item
columns may be merged over their rows (filled down), codes typed as numbers are read honestly,
points are rounded to two places when the rest is float noise. Exports write text as text.
"""

import csv
import io
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from org.sheets import (
    Column,
    ImportResult,
    Kind,
    Row,
    RowError,
    Sheet,
    SheetSpec,
    append_row,
    read_workbook,
    set_cell,
)
from org.xlsx import CODE_RE, _check_codes

from .models import Criterion, IndexSystem, Task

SHEET = "测评体系"
# The project and item columns repeat on every criterion row; offices (and our own 责任分解表)
# merge them over their rows, so they are filled down.
SPEC = SheetSpec(
    SHEET,
    (
        Column("项目编码", Kind.CODE, fill_down=True),
        Column("测评项目", fill_down=True, warn_traditional=True),
        Column("项目分值", Kind.DECIMAL, fill_down=True),
        Column("内容编码", Kind.CODE, fill_down=True),
        Column("测评内容", fill_down=True, warn_traditional=True),
        Column("内容分值", Kind.DECIMAL, fill_down=True),
        Column("标准编码", Kind.CODE),
        Column("测评标准", Kind.TEXT, warn_traditional=True),
        Column("分值", Kind.DECIMAL),
        Column("测评方法", fill_down=True),
        Column("测评频次", fill_down=True),
    ),
)
COLUMNS = SPEC.names
METHOD_BY_LABEL = {label: value for value, label in Criterion.Method.choices}
FREQUENCY_BY_LABEL = {label: value for value, label in Criterion.Frequency.choices}
SAMPLE = Path(__file__).parent / "data" / "national-sample.csv"
SAMPLE_NAME, SAMPLE_VERSION = "全国文明城市测评体系（示例）", "2026"


def _points(sheet: Sheet, row: Row, column: str) -> Decimal | None:
    text = row.values[column]
    try:
        value = Decimal(text)
    except InvalidOperation:
        sheet.error(row.number, column, f"分值应为数字：{text}")
        return None
    if value <= 0 or value != value.quantize(Decimal("0.01")) or value >= 100000:
        sheet.error(row.number, column, f"分值应为大于 0、最多两位小数的数字：{text}")
        return None
    return value


class _Node:
    """A project or item as the file describes it: first row, name, declared points, parent code."""

    def __init__(self, row: Row, name: str, points: Decimal | None, parent: str = ""):
        self.row, self.name, self.points, self.parent = row, name, points, parent
        self.children_points = Decimal(0)
        self.children_valid = True


def _validate(sheet: Sheet) -> tuple[dict[str, _Node], dict[str, _Node]]:
    projects: dict[str, _Node] = {}
    items: dict[str, _Node] = {}
    _check_codes(sheet, "标准编码")
    for row in sheet.rows:
        v = row.values
        if not sheet.required(row, *COLUMNS):
            continue
        for column in ("项目编码", "内容编码"):
            if not CODE_RE.match(v[column]):
                sheet.error(row.number, column, f"格式不正确：{v[column]}")
        if not v["内容编码"].startswith(v["项目编码"]):
            sheet.error(row.number, "内容编码", f"应以所属项目编码「{v['项目编码']}」开头")
        if not v["标准编码"].startswith(v["内容编码"]):
            sheet.error(row.number, "标准编码", f"应以所属内容编码「{v['内容编码']}」开头")
        if v["测评方法"] not in METHOD_BY_LABEL:
            sheet.error(
                row.number, "测评方法", f"未知测评方法「{v['测评方法']}」，应为：{'、'.join(METHOD_BY_LABEL)}"
            )
        if v["测评频次"] not in FREQUENCY_BY_LABEL:
            sheet.error(
                row.number,
                "测评频次",
                f"未知测评频次「{v['测评频次']}」，应为：{'、'.join(FREQUENCY_BY_LABEL)}",
            )
        project = _node(sheet, projects, row, "项目编码", "测评项目", "项目分值", "")
        item = _node(sheet, items, row, "内容编码", "测评内容", "内容分值", v["项目编码"])
        points = _points(sheet, row, "分值")
        if item is not None:
            if points is None:
                item.children_valid = False
            else:
                item.children_points += points
        if project is not None and item is not None and item.row is row:
            if item.points is None:
                project.children_valid = False
            else:
                project.children_points += item.points
    _check_sums(sheet, items, "内容分值", "测评标准")
    _check_sums(sheet, projects, "项目分值", "测评内容")
    return projects, items


def _node(
    sheet: Sheet,
    nodes: dict[str, _Node],
    row: Row,
    code_col: str,
    name_col: str,
    points_col: str,
    parent: str,
) -> _Node | None:
    """The node of this row's code, checking the row agrees with the code's first row."""
    v = row.values
    code = v[code_col]
    node = nodes.get(code)
    if node is None:
        node = nodes[code] = _Node(row, v[name_col], _points(sheet, row, points_col), parent)
        return node
    first = node.row.number
    if v[name_col] != node.name:
        sheet.error(row.number, name_col, f"编码「{code}」在第{first}行名称为「{node.name}」，此处不一致")
    if v[points_col] != node.row.values[points_col]:
        sheet.error(
            row.number,
            points_col,
            f"编码「{code}」在第{first}行分值为 {node.row.values[points_col]}，此处不一致",
        )
    if parent != node.parent:
        sheet.error(
            row.number,
            code_col,
            f"编码「{code}」在第{first}行属于「{node.parent}」，不能同时属于「{parent}」",
        )
    return node


def _check_sums(sheet: Sheet, nodes: dict[str, _Node], column: str, children: str) -> None:
    for code, node in nodes.items():
        if node.points is not None and node.children_valid and node.children_points != node.points:
            sheet.error(
                node.row.number,
                column,
                f"「{code}」分值 {_plain(node.points)} 与其{children}分值合计 {_plain(node.children_points)} 不符",
            )


def _plain(value: Decimal) -> str:
    """10 rather than 1E+1, 2.5 rather than 2.50."""
    return f"{value.normalize():f}"


def validate_workbook(file, result: ImportResult) -> Sheet | None:
    """Read and validate the file; the sheet of valid rows, or None with ``result.errors`` filled."""
    sheets = read_workbook(file, (SPEC,), result)
    if sheets is None:
        return None
    sheet = sheets[SHEET]
    if not sheet.rows:
        result.errors.append(RowError(SHEET, 0, "-", "没有任何测评标准"))
        return None
    _validate(sheet)
    return None if result.errors else sheet


def write_tree(system: IndexSystem, rows: list[Row]) -> dict[str, int]:
    """Create the projects, items and criteria of valid ``rows`` under ``system``."""
    projects: dict[str, object] = {}
    items: dict[str, object] = {}
    counts = {"测评项目": 0, "测评内容": 0, "测评标准": 0}
    for position, row in enumerate(rows):
        v = row.values
        project = projects.get(v["项目编码"])
        if project is None:
            project = projects[v["项目编码"]] = system.projects.create(
                code=v["项目编码"], name=v["测评项目"], points=Decimal(v["项目分值"]), position=len(projects)
            )
            counts["测评项目"] += 1
        item = items.get(v["内容编码"])
        if item is None:
            item = items[v["内容编码"]] = project.items.create(  # type: ignore[attr-defined]
                code=v["内容编码"], name=v["测评内容"], points=Decimal(v["内容分值"]), position=len(items)
            )
            counts["测评内容"] += 1
        item.criteria.create(  # type: ignore[attr-defined]
            code=v["标准编码"],
            text=v["测评标准"],
            points=Decimal(v["分值"]),
            method=METHOD_BY_LABEL[v["测评方法"]],
            frequency=FREQUENCY_BY_LABEL[v["测评频次"]],
            position=position,
        )
        counts["测评标准"] += 1
    return counts


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def tree_rows(system: IndexSystem) -> list[list]:
    """The system in the import layout, one row per criterion."""
    rows = []
    criteria = Criterion.objects.filter(item__project__system=system).select_related("item__project")
    for c in criteria.order_by("item__project__position", "item__position", "position"):
        item, project = c.item, c.item.project
        rows.append(
            [
                project.code,
                project.name,
                _number(project.points),
                item.code,
                item.name,
                _number(item.points),
                c.code,
                c.text,
                _number(c.points),
                c.get_method_display(),
                c.get_frequency_display(),
            ]
        )
    return rows


def _save(workbook: Workbook) -> io.BytesIO:
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def export_system(system: IndexSystem) -> io.BytesIO:
    """The index system in the import layout, so an export re-imports unchanged."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    append_row(sheet, COLUMNS)
    for row in tree_rows(system):
        append_row(sheet, row)
    return _save(workbook)


def sample_workbook() -> io.BytesIO:
    """The shipped sample system (``data/national-sample.csv``, the import layout) as an XLSX file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    with SAMPLE.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            append_row(sheet, row)
    return _save(workbook)


RESPONSIBILITY_COLUMNS = [
    ("序号", 6),
    ("测评项目", 14),
    ("测评内容", 18),
    ("测评标准", 36),
    ("分值", 6),
    ("牵头单位", 14),
    ("配合单位", 18),
    ("责任领导", 9),
    ("责任人", 9),
    ("完成时限", 11),
    ("验收标准", 28),
    ("挂牌督战", 7),
    ("进度", 7),
    ("状态", 9),
]


def export_responsibility(system: IndexSystem, tasks: list[Task]) -> io.BytesIO:
    """责任分解表: every item with its tasks, laid out for printing on landscape A3/A4 paper."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "责任分解表"
    width = len(RESPONSIBILITY_COLUMNS)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")
    centre = Alignment(wrap_text=True, vertical="center", horizontal="center")

    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    set_cell(sheet, 1, 1, f"{system.name}（{system.version}）责任分解表").font = Font(size=16, bold=True)
    sheet.cell(1, 1).alignment = centre
    sheet.row_dimensions[1].height = 30
    for col, (label, col_width) in enumerate(RESPONSIBILITY_COLUMNS, start=1):
        cell = set_cell(sheet, 2, col, label)
        cell.font, cell.alignment, cell.border = Font(bold=True), centre, border
        sheet.column_dimensions[get_column_letter(col)].width = col_width

    by_item: dict[int, list[Task | None]] = defaultdict(list)
    for task in tasks:
        by_item[task.item_id].append(task)
    criteria_by_item: dict[int, list[str]] = defaultdict(list)
    for item_id, text in Criterion.objects.filter(item__project__system=system).values_list(
        "item_id", "text"
    ):
        criteria_by_item[item_id].append(text)

    row = 3
    number = 0
    for project in system.projects.prefetch_related("items"):
        project_start = row
        for item in project.items.all():
            number += 1
            item_start = row
            for entry in by_item.get(item.pk, [None]):
                values = [
                    number,
                    project.name,
                    f"{item.code} {item.name}",
                    "\n".join(criteria_by_item[item.pk]),
                    _number(item.points),
                    *(_task_cells(entry) if entry else ["（未分解）", "", "", "", "", "", "", "", ""]),
                ]
                for col, value in enumerate(values, start=1):
                    cell = set_cell(sheet, row, col, value)
                    cell.border = border
                    cell.alignment = centre if col in (1, 5, 8, 9, 10, 12, 13, 14) else wrap
                row += 1
            if row - item_start > 1:
                for col in (1, 3, 4, 5):
                    sheet.merge_cells(start_row=item_start, start_column=col, end_row=row - 1, end_column=col)
        if row - project_start > 1:
            sheet.merge_cells(start_row=project_start, start_column=2, end_row=row - 1, end_column=2)

    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "1:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    return _save(workbook)


def _task_cells(task: Task) -> list:
    return [
        task.lead_unit.name if task.lead_unit else "",
        "、".join(u.name for u in task.co_units.all()),
        str(task.responsible_leader or ""),
        str(task.responsible_person or ""),
        task.deadline.isoformat() if task.deadline else "",
        task.acceptance_standard,
        "是" if task.is_key else "",
        f"{task.progress}%",
        task.get_state_display(),
    ]
