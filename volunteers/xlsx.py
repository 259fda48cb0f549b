"""XLSX import of the volunteer register 志愿者名册 (HQ).

One sheet, a header row with the columns of ``COLUMNS``, one volunteer per row; rows are matched
by 志愿者编号 and updated, new numbers are created. The whole file is validated first (ID number
check character per GB 11643, an ID number used twice in the file or by another volunteer in the
database, duplicate numbers, phone format, lengths, unknown region or team codes); any error
imports nothing, and each error names its row and column. Teams listed for a volunteer are added
to their memberships (none are removed).

Built for the district's register (130,000 rows) with flat memory, in two steps so that other
requests are not kept waiting: first the workbook is read once (read-only mode, plain values) and
every row checked, outside any transaction, the checked rows spilled in batches to a temporary
file (per batch one read-only query finds ID numbers already used by another volunteer); only when
the whole file is good are the spilled batches written inside one short transaction (on SQLite the
write lock is held for the writes alone, not for reading and checking the workbook), which a row
that turned bad meanwhile (a concurrent edit) still rolls back whole.
"""

import marshal
import re
import tempfile
import zipfile
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from org import imports
from org.audit import Actor, record
from org.models import Region

from .models import Team, TeamMember, Volunteer
from .privacy import _CONTROL, id_number_valid

COLUMNS = ["志愿者编号", "姓名", "身份证号", "手机号", "服务特长", "服务区域编码", "可服务时间", "服务队编码"]
LENGTHS = {"志愿者编号": 20, "姓名": 50, "服务特长": 200, "可服务时间": 100}
NUMBER_RE = re.compile(r"^[\w.-]{1,20}$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
MAX_ERRORS = 200
BATCH = 2000
NOT_XLSX = "文件不是有效的 XLSX 工作簿，请在 Excel 或 WPS 中另存为 .xlsx 后重新上传"


class ImportErrors(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("；".join(errors[:5]))
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _CONTROL.sub("", str(value)).strip()


def _rows(file):
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportErrors([NOT_XLSX]) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, ())]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        workbook.close()
        raise ImportErrors([f"缺少列：{'、'.join(missing)}（第一行应为列名）"])
    positions = [header.index(c) for c in COLUMNS]
    try:
        for number, raw in enumerate(rows, start=2):
            values = [_cell(raw[p]) if p < len(raw) else "" for p in positions]
            if any(values):
                yield number, values
    finally:
        workbook.close()


def import_volunteers(actor: Actor, file) -> ImportResult:
    """Check every row, then write the register in one transaction; ImportErrors lists what is
    wrong, and nothing is written."""
    regions = dict(Region.objects.values_list("code", "pk"))
    teams = dict(Team.objects.values_list("code", "pk"))
    errors: list[tuple[int, str]] = []
    seen_numbers: dict[str, int] = {}
    seen_ids: dict[str, int] = {}

    def error(row: int, column: str, message: str) -> None:
        errors.append((row, f"第{row}行 {column}：{message}"))

    def fail() -> ImportErrors:
        return ImportErrors([message for _row, message in sorted(errors)])

    with tempfile.TemporaryFile() as spill:
        checked: list[tuple[int, tuple, list[int]]] = []

        def spill_checked() -> None:
            _check_owners(checked, error)
            marshal.dump(checked, spill)
            checked.clear()

        for row, (number, name, id_no, phone, skills, region_code, availability, team_codes) in _rows(file):
            if len(errors) >= MAX_ERRORS:
                break
            before = len(errors)
            for column, value in (
                ("志愿者编号", number),
                ("姓名", name),
                ("身份证号", id_no),
                ("手机号", phone),
            ):
                if not value:
                    error(row, column, "必填")
            for column, value in (
                ("志愿者编号", number),
                ("姓名", name),
                ("服务特长", skills),
                ("可服务时间", availability),
            ):
                if len(value) > LENGTHS[column]:
                    error(row, column, f"不能超过 {LENGTHS[column]} 个字")
            if number and not NUMBER_RE.match(number):
                error(row, "志愿者编号", "只能包含字母、数字、“_”“-”“.”")
            elif number in seen_numbers:
                error(row, "志愿者编号", f"与第{seen_numbers[number]}行重复")
            seen_numbers.setdefault(number, row)
            id_no = id_no.upper()
            if id_no and not id_number_valid(id_no):
                error(row, "身份证号", "号码不正确（应为 18 位，且校验位符合国家标准）")
            elif id_no in seen_ids:
                error(row, "身份证号", f"与第{seen_ids[id_no]}行重复")
            seen_ids.setdefault(id_no, row)
            if phone and not MOBILE_RE.match(phone):
                error(row, "手机号", "应为 11 位手机号")
            region_id = regions.get(region_code) if region_code else None
            if region_code and region_id is None:
                error(row, "服务区域编码", f"没有编码为 {region_code} 的区域")
            team_ids = []
            for code in filter(None, (c.strip() for c in team_codes.replace(",", "、").split("、"))):
                if code not in teams:
                    error(row, "服务队编码", f"没有编码为 {code} 的服务队")
                else:
                    team_ids.append(teams[code])
            if len(errors) == before:
                checked.append((row, (number, name, id_no, phone, skills, region_id, availability), team_ids))
                if len(checked) >= BATCH:
                    spill_checked()
        spill_checked()
        if not seen_numbers and not errors:
            errors.append((0, "文件中没有志愿者数据"))
        if errors:
            raise fail()
        spill.seek(0)
        with transaction.atomic():
            writer = _Writer(error)
            while True:
                try:
                    batch = marshal.load(spill)
                except EOFError:
                    break
                for row, values, team_ids in batch:
                    writer.add(row, tuple(values), team_ids)
            writer.flush()
            if errors:  # an ID number taken meanwhile: leaving by this exception rolls back the writes
                raise fail()
            record(
                actor,
                "volunteers.import",
                None,
                f"导入志愿者名册：新增 {writer.created}，更新 {writer.updated}",
            )
    return ImportResult(created=writer.created, updated=writer.updated)


def _check_owners(checked: list[tuple[int, tuple, list[int]]], error) -> None:
    """Refuse the rows of a batch whose ID number another volunteer already has (read-only; the
    writer checks again inside its transaction)."""
    owners = dict(
        Volunteer.objects.filter(id_number__in=[values[2] for _row, values, _teams in checked]).values_list(
            "id_number", "number"
        )
    )
    for row, values, _teams in checked:
        owner = owners.get(values[2], values[0])
        if owner != values[0]:
            error(row, "身份证号", f"已被志愿者 {owner} 使用")


FIELDS = ["number", "name", "id_number", "phone", "skills", "region_id", "availability"]


class _Writer:
    """Writes checked rows in batches: one query finds which numbers and ID numbers exist, then
    prepared INSERTs and UPDATEs run by ``executemany`` (Django's ``bulk_update`` builds a CASE
    expression per field and row, and model objects for 130,000 rows cost more than the SQL).
    Memory stays at one batch."""

    def __init__(self, error):
        self.error = error
        self.pending: list[tuple[int, tuple, list[int]]] = []
        self.created = self.updated = 0
        quote = connection.ops.quote_name
        self.table = quote(Volunteer._meta.db_table)
        self.members = quote(TeamMember._meta.db_table)
        columns = [quote(str(Volunteer._meta.get_field(f).column)) for f in FIELDS]  # type: ignore[union-attr]
        extra = [quote(c) for c in ("points_balance", "registered_at", "is_active")]
        self.insert = f"INSERT INTO {self.table} ({', '.join(columns + extra)}) VALUES ({', '.join(['%s'] * (len(columns) + 3))})"
        self.update = (
            f"UPDATE {self.table} SET {', '.join(f'{c} = %s' for c in columns[1:])} WHERE {quote('id')} = %s"
        )
        self.link = (
            f"INSERT INTO {self.members} ({quote('team_id')}, {quote('volunteer_id')}, {quote('is_leader')}, "
            f"{quote('joined_at')}) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING"
        )

    def add(self, row: int, values: tuple, team_ids: list[int]) -> None:
        self.pending.append((row, values, team_ids))
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        numbers = [values[0] for _row, values, _teams in batch]
        id_numbers = [values[2] for _row, values, _teams in batch]
        found = Volunteer.objects.filter(Q(number__in=numbers) | Q(id_number__in=id_numbers))
        pks, owners = {}, {}
        for pk, number, id_no in found.values_list("pk", "number", "id_number"):
            pks[number] = pk
            owners[id_no] = number
        inserts, updates = [], []
        now = timezone.now()
        for row, values, _teams in batch:
            owner = owners.get(values[2], values[0])
            if owner != values[0]:
                self.error(row, "身份证号", f"已被志愿者 {owner} 使用")
            elif values[0] in pks:
                updates.append((*values[1:], pks[values[0]]))
            else:
                inserts.append((*values, 0, now, True))
        with connection.cursor() as cursor:
            if updates:
                cursor.executemany(self.update, updates)
            if inserts:
                cursor.executemany(self.insert, inserts)
                new = Volunteer.objects.filter(number__in=[v[0] for v in inserts]).values_list("number", "pk")
                pks.update(new)
            links = [
                (t, pks[values[0]], False, now)
                for _row, values, teams in batch
                for t in teams
                if values[0] in pks
            ]
            if links:
                cursor.executemany(self.link, links)
        self.created += len(inserts)
        self.updated += len(updates)


def import_job(actor: Actor, file, dry_run: bool, progress) -> imports.Outcome:
    """The register as a background import (``org.imports``): no preview, the import itself."""
    progress("读取、校验并写入名册", 10)
    try:
        result = import_volunteers(actor, file)
    except ImportErrors as exc:
        return imports.Outcome(ok=False, errors=[{"message": message} for message in exc.errors])
    return imports.Outcome(ok=True, summary=f"新增 {result.created} 人，更新 {result.updated} 人")
