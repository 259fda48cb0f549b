"""Checklists 测评表 in and out of XLSX, with the index import's round-trip rules: one row per
check item (sheet 测评表), the whole file validated before anything is written, every error naming
row and column, a file with any error importing nothing, and export → import changing nothing.

Columns: 点位类型编码 (a ``SiteType`` code), 标准编码 (a 实地考察 criterion of the index system),
检查内容, 分值, 扣分规则 (the rule's Chinese name), 每处/固定扣分, 扣分上限 (empty: the points),
问题须附照片 (是/否), 案件类别类型 (部件/事件) and 案件类别编码 (both empty: none). The file
describes the checklists of the types it names completely: lines missing from it are removed
(unless an inspection already used them — an error), new ones added, the rest updated."""

import io
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.styles import Font

from cases.models import Category
from indicators.models import Criterion, IndexSystem
from org.models import SiteType
from org.sheets import Column, ImportResult, Kind, Row, RowError, Sheet, SheetSpec, read_workbook, set_cell

from .models import CheckItem, Checklist, ItemResult

SHEET = "测评表"
# Read through ``org.sheets``, the reading layer of every import.
SPEC = SheetSpec(
    SHEET,
    (
        Column("点位类型编码", Kind.CODE),
        Column("标准编码", Kind.CODE),
        Column("检查内容", Kind.TEXT, max_length=300, warn_traditional=True),
        Column("分值", Kind.DECIMAL),
        Column("扣分规则"),
        Column("每处/固定扣分", Kind.DECIMAL),
        Column("扣分上限", Kind.DECIMAL),
        Column("问题须附照片"),
        Column("案件类别类型"),
        Column("案件类别编码", Kind.CODE),
    ),
)
COLUMNS = SPEC.names
RULE_BY_LABEL = {label: value for value, label in CheckItem.Rule.choices}
CATEGORY_KIND_BY_LABEL = {label: value for value, label in Category.Kind.choices}
YES_NO = {"是": True, "否": False}


def export_checklists(system: IndexSystem) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    items = CheckItem.objects.filter(checklist__system=system).select_related("checklist", "category")
    for item in items.order_by("checklist__site_kind", "position", "pk"):
        values = [
            item.checklist.site_kind,
            item.code,
            item.text,
            _number(item.points),
            item.get_rule_display(),
            _number(item.unit_deduction),
            _number(item.cap) if item.cap is not None else "",
            "是" if item.photo_required else "否",
            item.category.get_kind_display() if item.category else "",
            item.category.code if item.category else "",
        ]
        row = sheet.max_row + 1
        for col, value in enumerate(values, start=1):
            set_cell(sheet, row, col, value)  # text as text, never a formula
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _decimal(sheet: Sheet, row: Row, column: str, required: bool = True) -> Decimal | None:
    text = row.values[column]
    if not text:
        if required:
            sheet.error(row.number, column, "不能为空")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        sheet.error(row.number, column, f"应为数字：{text}")
        return None
    if value <= 0 or value != value.quantize(Decimal("0.01")) or value >= 10000:
        sheet.error(row.number, column, f"应为大于 0、最多两位小数的数字：{text}")
        return None
    return value


class _Line:
    def __init__(self, row: Row, kind: str, criterion: Criterion, values: dict):
        self.row, self.kind, self.criterion, self.values = row, kind, criterion, values


def _validate_row(sheet: Sheet, row: Row, kinds: set[str], criteria, categories) -> _Line | None:
    v = row.values
    errors_before = len(sheet.result.errors)
    if v["点位类型编码"] not in kinds:
        sheet.error(row.number, "点位类型编码", f"点位类型不存在：{v['点位类型编码']}")
    criterion = criteria.get(v["标准编码"])
    if criterion is None:
        sheet.error(row.number, "标准编码", f"不是本测评体系的实地考察标准：{v['标准编码']}")
    if not v["检查内容"]:
        sheet.error(row.number, "检查内容", "不能为空")
    elif len(v["检查内容"]) > 300 or any(ord(c) < 32 for c in v["检查内容"]):
        sheet.error(row.number, "检查内容", "不能超过 300 字，也不能含控制字符")
    points = _decimal(sheet, row, "分值")
    rule = RULE_BY_LABEL.get(v["扣分规则"])
    if rule is None:
        sheet.error(row.number, "扣分规则", f"应为 {'、'.join(RULE_BY_LABEL)} 之一：{v['扣分规则']}")
    unit = _decimal(sheet, row, "每处/固定扣分")
    cap = _decimal(sheet, row, "扣分上限", required=False)
    if points is not None:
        for column, value in (("每处/固定扣分", unit), ("扣分上限", cap)):
            if value is not None and value > points:
                sheet.error(row.number, column, f"不能超过分值 {points}")
    if v["问题须附照片"] not in YES_NO:
        sheet.error(row.number, "问题须附照片", f"应为“是”或“否”：{v['问题须附照片']}")
    category = None
    if v["案件类别类型"] or v["案件类别编码"]:
        kind = CATEGORY_KIND_BY_LABEL.get(v["案件类别类型"])
        category = categories.get((kind, v["案件类别编码"]))
        if category is None:
            sheet.error(
                row.number, "案件类别编码", f"案件类别不存在或不可用：{v['案件类别类型']} {v['案件类别编码']}"
            )
    if len(sheet.result.errors) > errors_before or criterion is None:
        return None
    values = {
        "text": v["检查内容"],
        "points": points,
        "rule": rule,
        "unit_deduction": unit,
        "cap": cap,
        "photo_required": YES_NO[v["问题须附照片"]],
        "category": category,
    }
    return _Line(row, v["点位类型编码"], criterion, values)


def validate(system: IndexSystem, file, result: ImportResult) -> list[_Line]:
    """The file's lines, or [] with ``result.errors`` filled (nothing is written here)."""
    sheets = read_workbook(file, (SPEC,), result)
    if sheets is None:
        return []
    sheet = sheets[SHEET]
    if not sheet.rows:
        result.errors.append(RowError(SHEET, 2, "-", "没有任何检查项"))
        return []
    kinds = set(SiteType.objects.values_list("code", flat=True))
    criteria = {
        c.code: c
        for c in Criterion.objects.filter(item__project__system=system, method=Criterion.Method.FIELD)
    }
    categories = {(c.kind, c.code): c for c in Category.objects.staff_selectable()}
    lines: list[_Line] = []
    seen: dict[tuple[str, str], int] = {}
    for row in sheet.rows:
        key = (row.values["点位类型编码"], row.values["标准编码"])
        if key in seen:
            sheet.error(row.number, "标准编码", f"与第{seen[key]}行重复：同一点位类型下的同一标准")
            continue
        seen[key] = row.number
        line = _validate_row(sheet, row, kinds, criteria, categories)
        if line is not None:
            lines.append(line)
    _check_removals(system, sheet, lines)
    return [] if result.errors else lines


def _check_removals(system: IndexSystem, sheet: Sheet, lines: list[_Line]) -> None:
    """A line the file leaves out is removed, unless inspections already used it."""
    kept = defaultdict(set)
    for line in lines:
        kept[line.kind].add(line.criterion.code)
    used = ItemResult.objects.filter(item__checklist__system=system, item__checklist__site_kind__in=kept)
    for kind, code in used.values_list("item__checklist__site_kind", "item__code").distinct():
        if code not in kept[kind]:
            sheet.result.errors.append(
                RowError(SHEET, 0, "-", f"点位类型 {kind} 的检查项 {code} 已有检查记录，不能从测评表中删除")
            )


def write(system: IndexSystem, lines: list[_Line]) -> dict[str, int]:
    """Bring the checklists of the file's site types to the file's lines (call in a transaction)."""
    names = SiteType.names()
    counts = {"新增": 0, "更新": 0, "删除": 0}
    by_kind: dict[str, list[_Line]] = defaultdict(list)
    for line in lines:
        by_kind[line.kind].append(line)
    for kind, kind_lines in by_kind.items():
        checklist, _ = Checklist.objects.get_or_create(
            system=system, site_kind=kind, defaults={"name": f"{names[kind]}测评表（{system.version}）"}
        )
        existing = {i.code: i for i in checklist.items.all()}
        wanted = {line.criterion.code for line in kind_lines}
        for code, item in existing.items():
            if code not in wanted:
                item.delete()
                counts["删除"] += 1
        for position, line in enumerate(kind_lines, start=1):
            found = existing.get(line.criterion.code)
            if found is None:
                CheckItem.objects.create(
                    checklist=checklist,
                    criterion=line.criterion,
                    code=line.criterion.code,
                    position=position,
                    **line.values,
                )
                counts["新增"] += 1
            else:
                for name, value in line.values.items():
                    setattr(found, name, value)
                found.position = position
                found.save()
                counts["更新"] += 1
    return counts
