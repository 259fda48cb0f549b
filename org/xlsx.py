"""XLSX import and export of regions (区域), units (单位) and people (人员).

One workbook, three sheets, the same layout both ways. Files are read through ``org.sheets`` (the
reading layer every import uses: normalised text, honest cell types, merged cells, header found by
name, caps on size and rows). An import is validated as a whole first: every error names its
sheet, row and column, and a file with any error imports nothing. Rows are matched by code
(regions, units) and username (people): existing rows are updated. A dry run (the page's preview,
``import_org --dry-run``) does all of it and rolls back, reporting what would be created, changed
and left alone.
"""

import functools
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict

from django.contrib.auth.hashers import make_password
from django.db import transaction
from openpyxl import Workbook

from . import imports
from .audit import Actor, record
from .db import insert_many
from .models import Membership, Region, Role, Unit, User
from .scope import require_role
from .sheets import (
    CHANGED,
    CREATED,
    NOT_XLSX,
    UNCHANGED,
    Column,
    ImportResult,
    Kind,
    Row,
    RowError,
    Sheet,
    SheetSpec,
    append_row,
    read_workbook,
)

__all__ = ["NOT_XLSX", "ImportResult", "Row", "RowError", "export_workbook", "import_workbook"]

REGION_SHEET, UNIT_SHEET, PEOPLE_SHEET = "区域", "单位", "人员"
REGION_SPEC = SheetSpec(
    REGION_SHEET,
    (
        Column("编码", Kind.CODE),
        Column("名称", max_length=Region._meta.get_field("name").max_length, warn_traditional=True),
        Column("层级", fill_down=True),
        Column("上级编码", Kind.CODE, fill_down=True),
    ),
)
UNIT_SPEC = SheetSpec(
    UNIT_SHEET,
    (
        Column("编码", Kind.CODE),
        Column("名称", max_length=Unit._meta.get_field("name").max_length, warn_traditional=True),
        Column("简称", max_length=Unit._meta.get_field("short_name").max_length, warn_traditional=True),
        Column("类型", fill_down=True),
        Column("所属区域编码", Kind.CODE, fill_down=True),
        Column("联系电话", Kind.PHONE, max_length=Unit._meta.get_field("phone").max_length),
    ),
)
PEOPLE_SPEC = SheetSpec(
    PEOPLE_SHEET,
    (
        Column("用户名", Kind.CODE),
        Column("姓名", max_length=User._meta.get_field("display_name").max_length, warn_traditional=True),
        Column("手机号", Kind.PHONE),
        Column("单位编码", Kind.CODE, fill_down=True),
        Column("角色", Kind.TEXT, fill_down=True),  # several roles, one per line allowed
    ),
)
REGION_COLUMNS, UNIT_COLUMNS, PEOPLE_COLUMNS = REGION_SPEC.names, UNIT_SPEC.names, PEOPLE_SPEC.names

LEVEL_BY_LABEL = {label: value for value, label in Region.Level.choices}
KIND_BY_LABEL = {label: value for value, label in Unit.Kind.choices}
ROLE_BY_LABEL = {label: value for value, label in Role.choices}
ROLE_VALUES = set(Role.values)
# Codes hold ASCII letters and digits (full-width ones are folded before this check), Chinese
# characters, "_", "-" and "."; never "/" (the separator of Region.path), spaces or look-alike
# letters of other scripts.
CODE_RE = re.compile(r"^[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff_.\-]{1,32}$")
PHONE_RE = re.compile(r"^1\d{10}$|^0\d{2,3}-?\d{7,8}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff_.@+\-]{1,150}$")
PHONE_RULE = "（应为 11 位手机号，可带 +86、空格或连字符；或带区号的固定电话，如 0827-5261234）"


def _check_codes(sheet: Sheet, column: str, existing: Iterable[str] = ()) -> None:
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
            sheet.error(row.number, column, f"格式不正确：「{code}」（{_code_rule(code, 32)}）")
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


def _code_rule(code: str, limit: int, extra: str = "") -> str:
    """What is wrong with a code, in words: the odd characters first, then the rule."""
    odd = sorted({c for c in code if not re.match(r"[A-Za-z0-9\u3400-\u4dbf\u4e00-\u9fff_.@+\-]", c)})
    shown = "、".join("空格" if c.isspace() else f"「{c}」(U+{ord(c):04X})" for c in odd)
    rule = f"只能包含英文字母、数字、汉字、_、-、.{extra}，不超过 {limit} 个字符"
    return f"含不允许的字符 {shown}；{rule}" if odd else rule


def _validate_regions(sheet: Sheet) -> dict[str, tuple[str, str]]:
    """Returns code → (level, parent code) for the regions the file and the database will hold."""
    existing = {
        code: (level, parent)
        for code, level, parent in Region.objects.values_list("code", "level", "parent__code")
    }
    in_file: dict[str, tuple[str, str]] = {}
    _check_codes(sheet, "编码", existing)
    for row in sheet.rows:
        v = row.values
        sheet.max_lengths(row)
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


def _validate_units(sheet: Sheet, region_codes: Iterable[str]) -> set[str]:
    regions = set(region_codes)
    by_name = dict(Unit.objects.values_list("name", "code"))
    existing = set(by_name.values())
    _check_codes(sheet, "编码", existing)
    for row in sheet.rows:
        v = row.values
        sheet.max_lengths(row)
        if not sheet.required(row, "编码", "名称", "类型", "所属区域编码"):
            continue
        if v["编码"] not in existing and v["名称"] in by_name:
            sheet.warn(
                row.number,
                "名称",
                f"新单位与已有单位「{by_name[v['名称']]}」同名：如是同一单位，请使用已有编码",
                kind="unit-name",
            )
        if v["类型"] not in KIND_BY_LABEL and v["类型"] not in Unit.Kind.values:
            sheet.error(row.number, "类型", f"未知单位类型「{v['类型']}」，应为：{'、'.join(KIND_BY_LABEL)}")
        if v["所属区域编码"] not in regions:
            sheet.error(row.number, "所属区域编码", f"区域「{v['所属区域编码']}」不存在")
        if v["联系电话"] and not PHONE_RE.match(v["联系电话"]):
            sheet.error(row.number, "联系电话", f"电话号码格式不正确：{v['联系电话']}{PHONE_RULE}")
    return existing | {r.values["编码"] for r in sheet.rows}


@functools.lru_cache(maxsize=256)
def _roles(text: str) -> tuple[str, ...]:
    """The role values of a 角色 cell; "?" for a part that is no role (refused in validation)."""
    parts = [p.strip() for p in re.split(r"[,，、;；\s]+", text) if p.strip()]
    return tuple(ROLE_BY_LABEL.get(p, p if p in ROLE_VALUES else "?") for p in parts)


def _validate_people(sheet: Sheet, unit_codes: set[str]) -> None:
    seen: dict[tuple[str, str], int] = {}
    person: dict[str, tuple[int, str, str]] = {}
    stored = dict(User.objects.values_list("username", "phone"))
    by_phone = {phone: username for username, phone in stored.items() if phone}
    for row in sheet.rows:
        v = row.values
        sheet.max_lengths(row)
        if not sheet.required(row, "用户名", "姓名", "单位编码", "角色"):
            continue
        if v["用户名"] not in stored and v["手机号"] in by_phone:
            sheet.warn(
                row.number,
                "手机号",
                f"新用户与已有人员「{by_phone[v['手机号']]}」手机号相同：如是同一人，请使用已有用户名",
                kind="person-phone",
            )
        first = person.setdefault(v["用户名"], (row.number, v["姓名"], v["手机号"]))
        if first[1:] != (v["姓名"], v["手机号"]):
            sheet.error(row.number, "姓名", f"同一用户名在第{first[0]}行的姓名或手机号与本行不同")
        if not USERNAME_RE.match(v["用户名"]):
            sheet.error(
                row.number,
                "用户名",
                f"格式不正确：「{v['用户名']}」（{_code_rule(v['用户名'], 150, '、@、+')}）",
            )
        if v["手机号"] and not PHONE_RE.match(v["手机号"]):
            sheet.error(row.number, "手机号", f"手机号格式不正确：{v['手机号']}{PHONE_RULE}")
        if v["单位编码"] not in unit_codes:
            sheet.error(row.number, "单位编码", f"单位「{v['单位编码']}」不存在")
        if "?" in _roles(v["角色"]):
            sheet.error(row.number, "角色", f"未知角色「{v['角色']}」，应为：{'、'.join(ROLE_BY_LABEL)}")
        key = (v["用户名"], v["单位编码"])
        if key in seen:
            sheet.error(row.number, "用户名", f"与第{seen[key]}行重复（同一人同一单位请写在一行）")
        seen.setdefault(key, row.number)


def import_workbook(
    actor: Actor, file, *, dry_run: bool = False, progress: Callable[[str, int], None] | None = None
) -> ImportResult:
    """Import the workbook, all or nothing. HQ only (a command runs as the system).

    ``dry_run``: validate and apply inside a transaction that is rolled back, so ``changes`` says
    what would be created, changed and left alone, and nothing is written (not even the audit).
    ``progress(stage, percent)`` is told each stage (the background job's page shows it)."""
    if actor.user is not None:
        require_role(actor.user, Role.HQ_ADMIN)
    progress = progress or (lambda stage, percent: None)
    result = ImportResult()
    progress("读取文件", 5)
    sheets = read_workbook(file, (REGION_SPEC, UNIT_SPEC, PEOPLE_SPEC), result)
    if sheets is None:
        return result
    if not any(sheet.rows for sheet in sheets.values()):
        result.file_error("文件中没有任何数据行")
        return result
    rows = sum(len(sheet.rows) for sheet in sheets.values())
    progress(f"校验并{'预览' if dry_run else '写入'} {rows} 行", 50)
    with transaction.atomic():
        known_regions = _validate_regions(sheets[REGION_SHEET])
        unit_codes = _validate_units(sheets[UNIT_SHEET], known_regions)
        _validate_people(sheets[PEOPLE_SHEET], unit_codes)
        if result.errors:
            return result
        result.changes[REGION_SHEET] = _apply_regions(sheets[REGION_SHEET].rows, known_regions)
        result.changes[UNIT_SHEET] = _apply_units(sheets[UNIT_SHEET].rows)
        result.changes[PEOPLE_SHEET] = _apply_people(sheets[PEOPLE_SHEET].rows)
        result.counts = {name: sum(changes.values()) for name, changes in result.changes.items()}
        if dry_run:
            transaction.set_rollback(True)
            return result
        record(
            actor,
            "org.import",
            None,
            f"导入组织架构：{result.summary()}",
            file=getattr(file, "name", "") or "",
            counts=result.counts,
            changes=result.changes,
        )
    return result


def _depth(code: str, known: dict[str, tuple[str, str]]) -> int:
    depth, parent = 0, known[code][1]
    while parent:
        depth, parent = depth + 1, known.get(parent, ("", ""))[1]
    return depth


def _tally() -> dict[str, int]:
    return {CREATED: 0, CHANGED: 0, UNCHANGED: 0}


BATCH = 1000


def _apply_regions(rows: list[Row], known: dict[str, tuple[str, str]]) -> dict[str, int]:
    # Parents first, so every row finds its parent already saved; Region.save() rewrites the
    # paths of a moved region's subtree. Unchanged regions are not written.
    tally = _tally()
    stored = {r.code: r for r in Region.objects.select_related("parent")}
    for row in sorted(rows, key=lambda r: _depth(r.values["编码"], known)):
        v = row.values
        region = stored.get(v["编码"])
        level = known[v["编码"]][0]
        parent_code = v["上级编码"] or None
        if region is not None and (
            region.name,
            region.level,
            region.parent.code if region.parent else None,
        ) == (
            v["名称"],
            level,
            parent_code,
        ):
            tally[UNCHANGED] += 1
            continue
        tally[CREATED if region is None else CHANGED] += 1
        region = region or Region(code=v["编码"])
        region.name, region.level = v["名称"], level
        region.parent = stored[parent_code] if parent_code else None
        region.save()
        stored[region.code] = region
    return tally


UNIT_FIELDS = ("name", "short_name", "kind", "region_id", "phone")


def _apply_units(rows: list[Row]) -> dict[str, int]:
    tally = _tally()
    regions = dict(Region.objects.values_list("code", "id"))
    stored = {u.code: u for u in Unit.objects.only("code", *UNIT_FIELDS)}
    new, changed = [], []
    for row in rows:
        v = row.values
        values = {
            "name": v["名称"],
            "short_name": v["简称"],
            "kind": KIND_BY_LABEL.get(v["类型"], v["类型"]),
            "region_id": regions[v["所属区域编码"]],
            "phone": v["联系电话"],
        }
        unit = stored.get(v["编码"])
        if unit is None:
            new.append(Unit(code=v["编码"], **values))
        elif any(getattr(unit, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(unit, name, value)
            changed.append(unit)
        else:
            tally[UNCHANGED] += 1
    Unit.objects.bulk_create(new, batch_size=BATCH)
    Unit.objects.bulk_update(changed, UNIT_FIELDS, batch_size=BATCH)
    tally[CREATED], tally[CHANGED] = len(new), len(changed)
    return tally


def _apply_people(rows: list[Row]) -> dict[str, int]:
    """People in bulk: new users and memberships inserted in batches, changed names and phones
    updated with ``bulk_update``. A row counts as created when its person is new, changed when the
    person or the membership changed. The people and memberships tables are read whole, once:
    cheaper than thousands of ``IN`` look-ups for a district's few ten thousand people."""
    tally = _tally()
    units = dict(Unit.objects.values_list("code", "id"))
    stored = {u[0]: u for u in User.objects.values_list("username", "id", "display_name", "phone")}
    unusable = make_password(None)  # new people set their password through HQ's reset
    new_users: dict[str, tuple[str, str, str]] = {}
    changed_users: dict[str, User] = {}
    for row in rows:
        v = row.values
        username, name, phone = v["用户名"], v["姓名"], v["手机号"]
        found = stored.get(username)
        if found is None:
            new_users.setdefault(username, (username, name, phone))
        elif (found[2], found[3]) != (name, phone):
            changed_users[username] = User(id=found[1], username=username, display_name=name, phone=phone)
    insert_many(User, User(password=unusable), ["username", "display_name", "phone"], new_users.values())
    User.objects.bulk_update(changed_users.values(), ["display_name", "phone"], batch_size=BATCH)
    ids = (
        dict(User.objects.values_list("username", "id"))
        if new_users
        else {u: f[1] for u, f in stored.items()}
    )
    existing = set(Membership.objects.values_list("user_id", "unit_id", "role"))
    memberships: list[tuple[int, int, str]] = []
    for row in rows:
        v = row.values
        user_id, unit_id = ids[v["用户名"]], units[v["单位编码"]]
        added = False
        for role in _roles(v["角色"]):  # validated: every role known
            key = (user_id, unit_id, role)
            if key not in existing:
                existing.add(key)
                memberships.append(key)
                added = True
        if v["用户名"] in new_users:
            tally[CREATED] += 1
        elif added or v["用户名"] in changed_users:
            tally[CHANGED] += 1
        else:
            tally[UNCHANGED] += 1
    insert_many(Membership, Membership(), ["user", "unit", "role"], memberships)
    return tally


def export_workbook(actor: Actor) -> io.BytesIO:
    """The whole organisation in the import layout, so an export re-imports unchanged. HQ only;
    recorded in the audit log, since it holds people's phone numbers. Text is written as text."""
    if actor.user is not None:
        require_role(actor.user, Role.HQ_ADMIN)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(REGION_SHEET)
    append_row(sheet, REGION_COLUMNS)
    for code, name, level, parent in Region.objects.order_by("path").values_list(
        "code", "name", "level", "parent__code"
    ):
        append_row(sheet, [code, name, Region.Level(level).label, parent or ""])
    sheet = workbook.create_sheet(UNIT_SHEET)
    append_row(sheet, UNIT_COLUMNS)
    for code, name, short, kind, region, phone in Unit.objects.order_by("code").values_list(
        "code", "name", "short_name", "kind", "region__code", "phone"
    ):
        append_row(sheet, [code, name, short, Unit.Kind(kind).label, region, phone])
    sheet = workbook.create_sheet(PEOPLE_SHEET)
    append_row(sheet, PEOPLE_COLUMNS)
    grouped: dict[tuple[str, str], list] = {}
    for username, display, phone, unit, role in Membership.objects.order_by(
        "user__username", "unit__code", "role"
    ).values_list("user__username", "user__display_name", "user__phone", "unit__code", "role"):
        grouped.setdefault((username, unit), [display, phone, []])[2].append(Role(role).label)
    for (username, unit), (display, phone, roles) in grouped.items():
        append_row(sheet, [username, display, phone, unit, "、".join(roles)])
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    record(actor, "org.export", None, "导出组织架构（含人员手机号）")
    return out


def import_job(actor: Actor, file, dry_run: bool, progress: Callable[[str, int], None]) -> imports.Outcome:
    """The organisation workbook as a background import (``org.imports``): preview, then import."""
    result = import_workbook(actor, file, dry_run=dry_run, progress=progress)
    return imports.Outcome(
        ok=result.ok,
        summary=result.summary(),
        errors=[asdict(e) for e in result.errors],
        warnings=[asdict(w) for w in result.warnings],
        preview=[list(row) for row in result.change_rows],
    )
