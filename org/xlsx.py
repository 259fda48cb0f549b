"""XLSX import and export of regions (区域), units (单位) and people (人员).

One workbook, three sheets, the same layout both ways. An import is validated as a whole first:
every error names its sheet, row and column, and a file with any error imports nothing.
Rows are matched by code (regions, units) and username (people): existing rows are updated.
"""

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from .audit import Actor, record
from .models import Membership, Region, Role, Unit, User
from .scope import require_role

REGION_SHEET, UNIT_SHEET, PEOPLE_SHEET = "区域", "单位", "人员"
REGION_COLUMNS = ["编码", "名称", "层级", "上级编码"]
UNIT_COLUMNS = ["编码", "名称", "简称", "类型", "所属区域编码", "联系电话"]
PEOPLE_COLUMNS = ["用户名", "姓名", "手机号", "单位编码", "角色"]

NOT_XLSX = "文件不是有效的 XLSX 工作簿，请在 Excel 或 WPS 中另存为 .xlsx 后重新上传"
LEVEL_BY_LABEL = {label: value for value, label in Region.Level.choices}
KIND_BY_LABEL = {label: value for value, label in Unit.Kind.choices}
ROLE_BY_LABEL = {label: value for value, label in Role.choices}
# Codes may hold letters of any script (Chinese included), digits, "_", "-" and ".", never "/"
# (the separator of Region.path) or spaces.
CODE_RE = re.compile(r"^[\w.-]{1,32}$")
PHONE_RE = re.compile(r"^1\d{10}$|^0\d{2,3}-?\d{7,8}$")
USERNAME_RE = re.compile(r"^[\w.@+-]{1,150}$")


@dataclass
class RowError:
    sheet: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.row:  # about the whole file or sheet, not one row
            return self.message if self.sheet == "-" else f"{self.sheet}：{self.message}"
        return f"{self.sheet} 第{self.row}行 {self.column}列：{self.message}"


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        return "，".join(f"{k} {v} 条" for k, v in self.counts.items())


@dataclass
class Row:
    number: int
    values: dict[str, str]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class _Sheet:
    def __init__(self, name: str, columns: list[str], result: ImportResult):
        self.name, self.columns, self.result = name, columns, result
        self.rows: list[Row] = []

    def error(self, row: int, column: str, message: str) -> None:
        letter = get_column_letter(self.columns.index(column) + 1) if column in self.columns else "-"
        self.result.errors.append(RowError(self.name, row, f"{letter}（{column}）", message))

    def read(self, workbook) -> None:
        if self.name not in workbook.sheetnames:
            self.result.errors.append(RowError(self.name, 0, "-", f"缺少工作表「{self.name}」"))
            return
        rows = workbook[self.name].iter_rows(values_only=True)
        header = [_cell(v) for v in next(rows, ())]
        if header[: len(self.columns)] != self.columns:
            self.result.errors.append(
                RowError(
                    self.name, 1, "-", f"表头应为：{'、'.join(self.columns)}，实际为：{'、'.join(header)}"
                )
            )
            return
        for number, raw in enumerate(rows, start=2):
            values = {col: _cell(raw[i]) if i < len(raw) else "" for i, col in enumerate(self.columns)}
            if any(values.values()):
                self.rows.append(Row(number, values))

    def required(self, row: Row, *columns: str) -> bool:
        missing = [c for c in columns if not row.values[c]]
        for column in missing:
            self.error(row.number, column, "不能为空")
        return not missing

    def max_lengths(self, row: Row, lengths: dict[str, int | None]) -> None:
        for column, limit in lengths.items():
            if limit is not None and len(row.values[column]) > limit:
                self.error(row.number, column, f"不能超过 {limit} 个字符")


def _check_codes(sheet: _Sheet, column: str, existing: Iterable[str] = ()) -> None:
    """Codes are well-formed and unique, ignoring case: "s1" next to "S1" would be read as one
    place by people and as two by the database. ``existing``: the codes already stored.
    (Also used by ``indicators.xlsx``.)"""
    in_db = {code.casefold(): code for code in existing}
    seen: dict[str, tuple[int, str]] = {}
    for row in sheet.rows:
        code = row.values[column]
        if not code:
            continue
        if not CODE_RE.match(code):
            sheet.error(
                row.number, column, f"格式不正确：「{code}」（只能包含文字、数字、_、-、.，不超过 32 个字符）"
            )
        key = code.casefold()
        if key in seen:
            number, first = seen[key]
            if first == code:
                sheet.error(row.number, column, f"与第{number}行重复：{code}")
            else:
                sheet.error(
                    row.number, column, f"与第{number}行的「{first}」重复（编码不区分大小写）：{code}"
                )
        else:
            seen[key] = (row.number, code)
        if key in in_db and in_db[key] != code:
            sheet.error(row.number, column, f"与已有编码「{in_db[key]}」仅大小写不同")


def _validate_regions(sheet: _Sheet) -> dict[str, tuple[str, str]]:
    """Returns code → (level, parent code) for the regions the file and the database will hold."""
    existing = {
        code: (level, parent)
        for code, level, parent in Region.objects.values_list("code", "level", "parent__code")
    }
    in_file: dict[str, tuple[str, str]] = {}
    _check_codes(sheet, "编码", existing)
    for row in sheet.rows:
        v = row.values
        sheet.max_lengths(row, {"名称": Region._meta.get_field("name").max_length})
        if not sheet.required(row, "编码", "名称", "层级"):
            continue
        level = LEVEL_BY_LABEL.get(v["层级"], v["层级"] if v["层级"] in Region.Level.values else None)
        if level is None:
            sheet.error(row.number, "层级", f"未知层级「{v['层级']}」，应为：{'、'.join(LEVEL_BY_LABEL)}")
            continue
        in_file.setdefault(v["编码"], (level, v["上级编码"]))
    known = {**existing, **in_file}
    for row in sheet.rows:
        code = row.values["编码"]
        if code not in in_file:
            continue
        level, parent = in_file[code]
        allowed = Region.PARENT_LEVELS[level]
        if not parent:
            if allowed:
                sheet.error(row.number, "上级编码", f"{Region.Level(level).label}必须填写上级编码")
            continue
        if parent not in known:
            sheet.error(row.number, "上级编码", f"上级区域「{parent}」不存在")
        elif known[parent][0] not in allowed:
            sheet.error(
                row.number,
                "上级编码",
                f"{Region.Level(level).label}不能隶属于{Region.Level(known[parent][0]).label}「{parent}」",
            )
        elif _has_cycle(code, known):
            sheet.error(row.number, "上级编码", "上下级关系形成循环")
    # A region whose level changes must still fit the children it keeps in the database.
    rows_by_code = {row.values["编码"]: row for row in sheet.rows}
    for code, (level, parent) in existing.items():
        if code in in_file or parent not in in_file:
            continue
        parent_level = in_file[parent][0]
        if parent_level not in Region.PARENT_LEVELS[level]:
            sheet.error(
                rows_by_code[parent].number,
                "层级",
                f"已有下级区域「{code}」（{Region.Level(level).label}）不能隶属于{Region.Level(parent_level).label}",
            )
    return known


def _has_cycle(code: str, known: dict[str, tuple[str, str]]) -> bool:
    seen = {code}
    parent = known[code][1]
    while parent:
        if parent in seen:
            return True
        seen.add(parent)
        parent = known.get(parent, ("", ""))[1]
    return False


def _validate_units(sheet: _Sheet, region_codes: Iterable[str]) -> set[str]:
    regions = set(region_codes)
    existing = set(Unit.objects.values_list("code", flat=True))
    _check_codes(sheet, "编码", existing)
    lengths = {
        "名称": Unit._meta.get_field("name").max_length,
        "简称": Unit._meta.get_field("short_name").max_length,
    }
    for row in sheet.rows:
        v = row.values
        sheet.max_lengths(row, lengths)
        if not sheet.required(row, "编码", "名称", "类型", "所属区域编码"):
            continue
        if v["类型"] not in KIND_BY_LABEL and v["类型"] not in Unit.Kind.values:
            sheet.error(row.number, "类型", f"未知单位类型「{v['类型']}」，应为：{'、'.join(KIND_BY_LABEL)}")
        if v["所属区域编码"] not in regions:
            sheet.error(row.number, "所属区域编码", f"区域「{v['所属区域编码']}」不存在")
        if v["联系电话"] and not PHONE_RE.match(v["联系电话"]):
            sheet.error(row.number, "联系电话", f"电话号码格式不正确：{v['联系电话']}")
    return existing | {r.values["编码"] for r in sheet.rows}


def _roles(text: str) -> list[str | None]:
    parts = [p.strip() for p in re.split(r"[,，、;；\s]+", text) if p.strip()]
    return [ROLE_BY_LABEL.get(p, p if p in Role.values else None) for p in parts]


def _validate_people(sheet: _Sheet, unit_codes: set[str]) -> None:
    seen: dict[tuple[str, str], int] = {}
    person: dict[str, tuple[int, str, str]] = {}
    for row in sheet.rows:
        v = row.values
        sheet.max_lengths(row, {"姓名": User._meta.get_field("display_name").max_length})
        if not sheet.required(row, "用户名", "姓名", "单位编码", "角色"):
            continue
        first = person.setdefault(v["用户名"], (row.number, v["姓名"], v["手机号"]))
        if first[1:] != (v["姓名"], v["手机号"]):
            sheet.error(row.number, "姓名", f"同一用户名在第{first[0]}行的姓名或手机号与本行不同")
        if not USERNAME_RE.match(v["用户名"]):
            sheet.error(row.number, "用户名", "只能包含字母、数字和 @/./+/-/_")
        if v["手机号"] and not PHONE_RE.match(v["手机号"]):
            sheet.error(row.number, "手机号", f"手机号格式不正确：{v['手机号']}")
        if v["单位编码"] not in unit_codes:
            sheet.error(row.number, "单位编码", f"单位「{v['单位编码']}」不存在")
        if None in _roles(v["角色"]):
            sheet.error(row.number, "角色", f"未知角色「{v['角色']}」，应为：{'、'.join(ROLE_BY_LABEL)}")
        key = (v["用户名"], v["单位编码"])
        if key in seen:
            sheet.error(row.number, "用户名", f"与第{seen[key]}行重复（同一人同一单位请写在一行）")
        seen.setdefault(key, row.number)


def import_workbook(actor: Actor, file) -> ImportResult:
    """Import the workbook, all or nothing. HQ only (a command runs as the system)."""
    if actor.user is not None:
        require_role(actor.user, Role.HQ_ADMIN)
    result = ImportResult()
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError):
        result.errors.append(RowError("-", 0, "-", NOT_XLSX))
        return result
    sheets = {
        name: _Sheet(name, columns, result)
        for name, columns in (
            (REGION_SHEET, REGION_COLUMNS),
            (UNIT_SHEET, UNIT_COLUMNS),
            (PEOPLE_SHEET, PEOPLE_COLUMNS),
        )
    }
    try:
        for sheet in sheets.values():
            sheet.read(workbook)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError):
        result.errors.append(RowError("-", 0, "-", NOT_XLSX))
    finally:
        workbook.close()
    if not result.errors and not any(sheet.rows for sheet in sheets.values()):
        result.errors.append(RowError("-", 0, "-", "文件中没有任何数据行"))
    if result.errors:
        return result
    with transaction.atomic():
        known_regions = _validate_regions(sheets[REGION_SHEET])
        unit_codes = _validate_units(sheets[UNIT_SHEET], known_regions)
        _validate_people(sheets[PEOPLE_SHEET], unit_codes)
        if result.errors:
            return result
        result.counts["区域"] = _apply_regions(sheets[REGION_SHEET].rows, known_regions)
        result.counts["单位"] = _apply_units(sheets[UNIT_SHEET].rows)
        result.counts["人员"] = _apply_people(sheets[PEOPLE_SHEET].rows)
        record(
            actor,
            "org.import",
            None,
            f"导入组织架构：{result.summary()}",
            file=getattr(file, "name", "") or "",
            counts=result.counts,
        )
    return result


def _depth(code: str, known: dict[str, tuple[str, str]]) -> int:
    depth, parent = 0, known[code][1]
    while parent:
        depth, parent = depth + 1, known.get(parent, ("", ""))[1]
    return depth


def _apply_regions(rows: list[Row], known: dict[str, tuple[str, str]]) -> int:
    # Parents first, so every row finds its parent already saved; Region.save() rewrites the
    # paths of a moved region's subtree.
    for row in sorted(rows, key=lambda r: _depth(r.values["编码"], known)):
        v = row.values
        parent = Region.objects.get(code=v["上级编码"]) if v["上级编码"] else None
        region = Region.objects.filter(code=v["编码"]).first() or Region(code=v["编码"])
        region.name, region.level, region.parent = v["名称"], known[v["编码"]][0], parent
        region.save()
    return len(rows)


def _apply_units(rows: list[Row]) -> int:
    regions = dict(Region.objects.values_list("code", "id"))
    for row in rows:
        v = row.values
        Unit.objects.update_or_create(
            code=v["编码"],
            defaults={
                "name": v["名称"],
                "short_name": v["简称"],
                "kind": KIND_BY_LABEL.get(v["类型"], v["类型"]),
                "region_id": regions[v["所属区域编码"]],
                "phone": v["联系电话"],
            },
        )
    return len(rows)


def _apply_people(rows: list[Row]) -> int:
    units = dict(Unit.objects.values_list("code", "id"))
    unusable = make_password(None)  # new people set their password through HQ's reset
    for row in rows:
        v = row.values
        user, created = User.objects.get_or_create(username=v["用户名"], defaults={"password": unusable})
        user.display_name, user.phone = v["姓名"], v["手机号"]
        user.save(update_fields=["display_name", "phone"])
        for role in _roles(v["角色"]):
            Membership.objects.get_or_create(user=user, unit_id=units[v["单位编码"]], role=role)
    return len(rows)


def export_workbook(actor: Actor) -> io.BytesIO:
    """The whole organisation in the import layout, so an export re-imports unchanged. HQ only;
    recorded in the audit log, since it holds people's phone numbers."""
    if actor.user is not None:
        require_role(actor.user, Role.HQ_ADMIN)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(REGION_SHEET)
    sheet.append(REGION_COLUMNS)
    for code, name, level, parent in Region.objects.order_by("path").values_list(
        "code", "name", "level", "parent__code"
    ):
        sheet.append([code, name, Region.Level(level).label, parent or ""])
    sheet = workbook.create_sheet(UNIT_SHEET)
    sheet.append(UNIT_COLUMNS)
    for code, name, short, kind, region, phone in Unit.objects.order_by("code").values_list(
        "code", "name", "short_name", "kind", "region__code", "phone"
    ):
        sheet.append([code, name, short, Unit.Kind(kind).label, region, phone])
    sheet = workbook.create_sheet(PEOPLE_SHEET)
    sheet.append(PEOPLE_COLUMNS)
    grouped: dict[tuple[str, str], list] = {}
    for username, display, phone, unit, role in Membership.objects.order_by(
        "user__username", "unit__code", "role"
    ).values_list("user__username", "user__display_name", "user__phone", "unit__code", "role"):
        grouped.setdefault((username, unit), [display, phone, []])[2].append(Role(role).label)
    for (username, unit), (display, phone, roles) in grouped.items():
        sheet.append([username, display, phone, unit, "、".join(roles)])
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    record(actor, "org.export", None, "导出组织架构（含人员手机号）")
    return out
