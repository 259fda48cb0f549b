"""The org import against workbooks made the way offices make them (generated: org/tests/workbooks.py).

Each variant either imports exactly what its clean twin imports (the database compared row by
row) or is refused with an error naming sheet, row, column and cause, leaving the database as it
was.
"""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.db import transaction
from django.test import override_settings
from openpyxl.utils import get_column_letter

from org import sheets, xlsx
from org.audit import Actor
from org.models import AuditLog, Membership, Region, Unit, User
from org.tests.test_xlsx import PEOPLE, REGIONS, UNITS
from org.tests.workbooks import (
    Cell,
    Sheet,
    fullwidth,
    ods_file,
    ole_file,
    openpyxl_book,
    with_member,
    xlsxwriter_book,
)

pytestmark = pytest.mark.django_db

R, U, P = xlsx.REGION_SHEET, xlsx.UNIT_SHEET, xlsx.PEOPLE_SHEET
# The clean tables: REGIONS, UNITS, PEOPLE of test_xlsx plus a second person in unit U1, a unit
# and a person whose codes are all digits.
CLEAN = {
    R: [list(r) for r in REGIONS],
    U: [list(r) for r in UNITS] + [["0102", "二街道办事处", "二街道", "街道办事处", "S1", ""]],
    P: [list(r) for r in PEOPLE]
    + [
        ["wang", "王五", "13900000003", "U1", "责任单位处置员、网报专员"],
        ["007", "赵六", "", "0102", "志愿者"],
    ],
}
HEADERS = {R: xlsx.REGION_COLUMNS, U: xlsx.UNIT_COLUMNS, P: xlsx.PEOPLE_COLUMNS}


def tables() -> dict[str, list[list]]:
    """Copies of the clean tables (with a header row), ready to be made hostile."""
    return {name: [list(HEADERS[name])] + [list(r) for r in rows] for name, rows in CLEAN.items()}


def snapshot() -> tuple:
    """Everything an import may touch, but the importing HQ person and unit."""
    return (
        sorted(Region.objects.values_list("code", "name", "level", "parent__code", "path")),
        sorted(
            Unit.objects.exclude(code="HQ").values_list(
                "code", "name", "short_name", "kind", "region__code", "phone"
            )
        ),
        sorted(
            (u.username, u.display_name, u.phone, u.has_usable_password())
            for u in User.objects.exclude(username="hq")
        ),
        sorted(
            Membership.objects.exclude(user__username="hq").values_list(
                "user__username", "unit__code", "role"
            )
        ),
    )


def hq_actor() -> Actor:
    return Actor(user=User.objects.get(username="hq"), ip="10.1.2.3", via="web")


@pytest.fixture(autouse=True)
def hq():
    from org.models import Role
    from org.tests.factories import UnitFactory, member

    return member(UnitFactory(code="HQ", kind=Unit.Kind.HQ), Role.HQ_ADMIN, username="hq")


def clean_file() -> io.BytesIO:
    return openpyxl_book(tables())


def imported(file) -> tuple[tuple, xlsx.ImportResult]:
    """Import ``file`` into the current database; (what the database holds after, the result)."""
    result = xlsx.import_workbook(hq_actor(), file)
    assert result.ok, [str(e) for e in result.errors]
    return snapshot(), result


@pytest.fixture
def expected():
    """What the clean tables import to, computed in a transaction that is rolled back."""
    with transaction.atomic():
        state, _result = imported(clean_file())
        transaction.set_rollback(True)
    return state


def refused(file, sheet: str, row: int, column: str, cause: str) -> sheets.RowError:
    before = snapshot()
    audit_before = AuditLog.objects.count()
    result = xlsx.import_workbook(hq_actor(), file)
    assert not result.ok
    assert snapshot() == before and AuditLog.objects.count() == audit_before
    for error in result.errors:
        if (error.sheet, error.row, error.column[:1]) == (sheet, row, column) and cause in error.message:
            return error
    raise AssertionError([str(e) for e in result.errors])


def file_refused(file, cause: str) -> None:
    before = snapshot()
    result = xlsx.import_workbook(hq_actor(), file)
    assert [e.message for e in result.errors] == [cause]
    assert snapshot() == before


# -- variants that import exactly the clean data ----------------------------------------------


def _fullwidth_codes():
    t = tables()
    for row in t[R][1:]:
        row[0], row[3] = fullwidth(row[0]), fullwidth(row[3])
    for row in t[U][1:]:
        row[0], row[4] = fullwidth(row[0]), fullwidth(row[4])
    for row in t[P][1:]:
        row[0], row[2], row[3] = fullwidth(row[0]), fullwidth(row[2]), fullwidth(row[3])
    t[U][1][5] = "０８２７－５２６１２３４"
    return openpyxl_book(t)


def _invisible_characters():
    t = tables()
    t[R][2][0] = "\ufeffS1"  # a BOM pasted from a text file
    t[R][3][3] = "S\u200b1"  # a zero-width space inside a reference
    t[U][1][4] = "S1\u200d"
    t[P][1][0] = "\u00a0zhang\u00a0"  # NBSP around a username
    t[P][2][1] = " 李四\u2060 "
    return openpyxl_book(t)


def _whitespace_in_names():
    t = tables()
    t[U][1][1] = "一街道\n办事处"  # a line break typed with Alt+Enter
    t[U][2][1] = "区城管局\u3000"
    t[P][1][1] = "张\u3000\u3000三"  # two-character names padded to align
    t[P][3][1] = "王  五"
    return openpyxl_book(t)


def _phones_as_typed():
    t = tables()
    t[P][1][2] = 13900000001  # a number, as Excel keeps a long digit string
    t[P][3][2] = "+86 139-0000-0003"
    t[U][1][5] = "0827 5261234"
    return openpyxl_book(t)


def _phones_with_spaces():
    t = tables()
    t[P][1][2] = "139 0000 0001"
    t[P][3][2] = "1３９0000０００3"
    return openpyxl_book(t)


def _numbers_with_a_zero_format():
    t = tables()
    t[U][3][0] = Cell(102, number_format="0000")  # typed 0102 into a cell formatted 0000
    t[P][4][0] = Cell(7, number_format="000")
    t[P][4][3] = Cell(102, number_format="0000")
    t[P][1][2] = Cell(13900000001.0, number_format="0")
    return openpyxl_book(t)


def _title_rows_notes_and_extra_columns():
    t = tables()
    for name, rows in t.items():
        header = rows[0]
        notes = [f"{h}（必填）" if i == 0 else f" {h[:1]} {h[1:]} " for i, h in enumerate(header)]
        body = [[n, *row, "备注随便写"] for n, row in enumerate(rows[1:], start=1)]
        t[name] = [
            [f"巴州区{name}信息表"],
            ["填表单位：区创文办", None, None, "填表日期：2026年3月"],
            ["序号", *notes, "备注"],
            *body,
            ["合计", f"{len(body)} 条"],
        ]
    return openpyxl_book(
        {name: Sheet(rows, merges=[f"A1:{get_column_letter(len(rows[2]))}1"]) for name, rows in t.items()}
    )


def _reordered_columns_and_sheets():
    t = tables()
    reordered = {}
    for name in (P, U, R):  # sheets in another order too
        rows = t[name]
        order = list(reversed(range(len(rows[0]))))
        reordered[name] = [[row[i] if i < len(row) else None for i in order] for row in rows]
    return openpyxl_book(reordered)


def _sheet_names_with_spaces():
    t = tables()
    return openpyxl_book({f"{R} ": t[R], f" {U}": t[U], f"{P}\u3000": t[P]})


def _protected_sheets():
    t = tables()
    return openpyxl_book({name: Sheet(rows, protected=True) for name, rows in t.items()})


def _merged_unit_and_role_filled_down():
    t = tables()
    # zhang and wang both in U1 with the same roles: 单位编码 and 角色 merged over their rows.
    rows = [t[P][0], t[P][1], t[P][3], t[P][2], t[P][4]]  # zhang, wang, li, 007
    rows[2][3] = rows[2][4] = None
    return openpyxl_book({R: t[R], U: t[U], P: Sheet(rows, merges=["D2:D3", "E2:E3"])})


def _formulas_with_cached_text():
    t = tables()
    t[U][2][1] = Cell("区城管局", formula='="区城管"&"局"')
    t[P][2][1] = Cell("李四", formula='=CONCATENATE("李","四")')
    return xlsxwriter_book(t)


def _roles_on_separate_lines():
    t = tables()
    t[P][1][4] = "责任单位处置员\n网报专员"  # Alt+Enter between two roles
    t[P][3][4] = "责任单位处置员，\u3000网报专员"
    return openpyxl_book(t)


def _inline_strings():
    return xlsxwriter_book(tables(), constant_memory=True)


IMPORTS_AS_CLEAN = {
    "fullwidth-codes-and-phones": _fullwidth_codes,
    "bom-zero-width-nbsp": _invisible_characters,
    "whitespace-in-names": _whitespace_in_names,
    "phones-as-numbers-and-with-plus86": _phones_as_typed,
    "phones-with-spaces": _phones_with_spaces,
    "codes-as-numbers-with-0000-format": _numbers_with_a_zero_format,
    "title-rows-notes-serial-and-sum-row": _title_rows_notes_and_extra_columns,
    "reordered-columns-and-sheets": _reordered_columns_and_sheets,
    "sheet-names-with-spaces": _sheet_names_with_spaces,
    "protected-sheets": _protected_sheets,
    "merged-unit-and-role-filled-down": _merged_unit_and_role_filled_down,
    "formulas-with-cached-text": _formulas_with_cached_text,
    "inline-strings": _inline_strings,
    "roles-on-separate-lines": _roles_on_separate_lines,
}


@pytest.mark.parametrize("make", IMPORTS_AS_CLEAN.values(), ids=IMPORTS_AS_CLEAN.keys())
def test_variant_imports_exactly_the_clean_data(make, expected):
    state, _result = imported(make())
    assert state == expected


@pytest.mark.parametrize("make", [_fullwidth_codes, _invisible_characters], ids=["fullwidth", "invisible"])
def test_variant_matches_existing_rows_instead_of_creating_duplicates(make, expected):
    imported(clean_file())
    state, result = imported(make())
    assert state == expected
    assert all(tally[xlsx.CREATED] == 0 for tally in result.changes.values()), result.changes


def test_formulas_are_a_warning_naming_the_column():
    _state, result = imported(_formulas_with_cached_text())
    assert any(w.sheet == U and w.column.startswith("B") and "公式" in w.message for w in result.warnings)


def test_hidden_rows_import_with_a_warning(expected):
    t = tables()
    state, result = imported(openpyxl_book({R: t[R], U: t[U], P: Sheet(t[P], hidden_rows=[3])}))
    assert state == expected
    assert [(w.sheet, w.row) for w in result.warnings] == [(P, 3)]
    assert "隐藏行" in result.warnings[0].message


def test_traditional_characters_import_with_a_warning():
    t = tables()
    t[R][3][1] = "回風社區"
    _state, result = imported(openpyxl_book(t))
    warning = next(w for w in result.warnings if w.sheet == R)
    assert (warning.row, warning.column) == (4, "B（名称）")
    assert "風、區" in warning.message


# -- variants that are refused, naming sheet, row, column and cause ------------------------------


def test_a_merged_short_name_is_refused_naming_the_merge():
    t = tables()
    t[U][2][2] = None
    error = refused(openpyxl_book({**t, U: Sheet(t[U], merges=["C2:C3"])}), U, 3, "C", "合并单元格 C2:C3")
    assert "取消合并" in error.message


def test_a_merged_name_over_people_is_refused():
    t = tables()
    t[P][2][1] = None
    refused(openpyxl_book({**t, P: Sheet(t[P], merges=["B2:B3"])}), P, 3, "B", "合并单元格 B2:B3")


def test_a_formula_without_a_cached_value_is_refused():
    t = tables()
    t[U][1][1] = Cell(formula='="一街道"&"办事处"')
    error = refused(openpyxl_book(t), U, 2, "B", "在 Excel/WPS 中打开并保存，或粘贴为数值")
    assert "不能为空" not in error.message


def test_a_formula_cached_as_zero_by_xlsxwriter_is_refused():
    t = tables()
    t[U][1][1] = Cell(formula='="一街道"&"办事处"')  # XlsxWriter caches 0
    refused(xlsxwriter_book(t), U, 2, "B", "公式的结果是数字 0")


def test_a_formula_in_a_code_column_without_value_is_refused():
    t = tables()
    t[R][2][0] = Cell(formula='="S"&"1"')
    refused(openpyxl_book(t), R, 3, "A", "粘贴为数值")


def test_a_date_in_a_text_column_is_refused():
    t = tables()
    t[U][1][2] = Cell(dt.datetime(2026, 3, 1), number_format="yyyy-mm-dd")
    refused(openpyxl_book(t), U, 2, "C", "日期或时间（2026-03-01）")


def test_a_code_typed_as_a_decimal_number_is_refused():
    t = tables()
    t[U][1][0] = 5.1  # was it 5.1 or 5.10?
    refused(openpyxl_book(t), U, 2, "A", "无法区分 5.1 与 5.10")


def test_a_sixteen_digit_number_is_refused():
    t = tables()
    t[R][1][0] = 5119020010010011
    refused(openpyxl_book(t), R, 2, "A", "超过 15 位")


def test_error_and_logical_cells_are_refused():
    t = tables()
    t[U][1][1] = Cell("#REF!", error=True)
    t[U][2][2] = True
    file = openpyxl_book(t)
    refused(file, U, 2, "B", "错误值 #REF!")
    refused(file, U, 3, "C", "逻辑值 TRUE")


def test_a_look_alike_letter_in_a_code_is_refused_by_name():
    t = tables()
    t[U][1][0] = "\u04211"  # Cyrillic С, which looks like the Latin C
    refused(openpyxl_book(t), U, 2, "A", "U+0421")


def test_a_missing_header_column_names_the_header_row():
    t = tables()
    t[U].insert(0, ["巴州区单位信息表"])
    t[U][1][1] = "单位全称"
    refused(openpyxl_book(t), U, 2, "-", "表头缺少列：名称")


def test_a_phone_that_is_no_phone_is_refused():
    t = tables()
    t[P][1][2] = "139-0000-00"
    refused(openpyxl_book(t), P, 2, "C", "手机号格式不正确")


@pytest.mark.parametrize(
    "make, cause",
    [
        (lambda: ole_file("EncryptionInfo", "EncryptedPackage"), sheets.ENCRYPTED),
        (lambda: ole_file("Workbook"), sheets.OLD_XLS),
        (ods_file, sheets.ODS),
        (lambda: io.BytesIO(b"PK\x03\x04 not really"), sheets.NOT_XLSX),
        (lambda: io.BytesIO("编码,名称\nD,测试区\n".encode()), sheets.NOT_XLSX),
    ],
    ids=["encrypted", "xls", "ods", "broken-zip", "csv"],
)
def test_files_that_are_no_xlsx_are_told_apart(make, cause):
    file_refused(make(), cause)


# -- caps, checked before parsing --------------------------------------------------------------


def test_a_decompression_bomb_is_refused_before_parsing(monkeypatch):
    """A small file whose shared strings unpack to 120 MB: refused from the zip directory alone."""
    bomb = with_member(clean_file(), "xl/sharedStrings.xml", b"<" + b"a" * (120 * 1024 * 1024))
    assert len(bomb.getvalue()) < 1024 * 1024

    def never(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(sheets, "load_workbook", never)
    before = snapshot()
    result = xlsx.import_workbook(hq_actor(), bomb)
    assert len(result.errors) == 1 and "解压后达 120 MB" in result.errors[0].message
    assert snapshot() == before


@override_settings(SHEETS_MAX_ROWS=50)
def test_too_many_rows_are_refused_from_the_sheet_dimension(monkeypatch):
    t = tables()
    t[P] += [[f"user{n}", f"人{n}", "", "U1", "志愿者"] for n in range(60)]
    monkeypatch.setattr(sheets._SheetXml, "rows", lambda self: (_ for _ in ()).throw(AssertionError))
    error = refused(openpyxl_book(t), P, 0, "-", "超过单次导入上限 50 行")
    assert "拆分" in error.message


@override_settings(SHEETS_MAX_ROWS=50)
def test_too_many_rows_are_refused_without_a_dimension():
    t = tables()
    t[P] += [[f"user{n}", f"人{n}", "", "U1", "志愿者"] for n in range(60)]
    file = openpyxl_book(t)
    sheet_xml = zipfile.ZipFile(file).read("xl/worksheets/sheet3.xml")
    file = with_member(file, "xl/worksheets/sheet3.xml", re.sub(rb"<dimension[^>]*/>", b"", sheet_xml))
    refused(file, P, 0, "-", "超过单次导入上限 50 行")


def test_near_duplicates_of_existing_units_and_people_are_warnings():
    imported(clean_file())
    t = tables()
    t[U].append(["U9", "区城管局", "", "区级部门", "D", ""])  # a new code for an existing unit
    t[P].append(["zhang2", "张三", "13900000001", "U1", "志愿者"])  # a new username, same phone
    _state, result = imported(openpyxl_book(t))
    assert [(w.sheet, w.row, w.column[:1]) for w in result.warnings] == [(U, 5, "B"), (P, 6, "C")]
    assert "已有单位「U2」同名" in result.warnings[0].message
    assert "已有人员「zhang」手机号相同" in result.warnings[1].message


def test_many_warnings_of_one_kind_are_counted_in_one_line():
    t = tables()
    t[P] += [[f"user{n}", f"人{n}", "", "U1", "志愿者"] for n in range(30)]
    hidden = list(range(2, 2 + len(t[P]) - 1))
    _state, result = imported(openpyxl_book({**t, P: Sheet(t[P], hidden_rows=hidden)}))
    assert len(result.warnings) == sheets.WARNINGS_PER_KIND + 1
    assert result.warnings[-1].message.startswith(f"另有 {len(hidden) - sheets.WARNINGS_PER_KIND} 处同类提示")


def test_a_huge_merged_range_is_read_quickly_and_named():
    """A merge reaching the sheet's last possible row costs nothing beyond the rows the sheet has
    (the merge is written into the XML as some tools write it, without a cell per merged cell)."""
    t = tables()
    t[U][2][2] = None
    file = openpyxl_book({**t, U: Sheet(t[U], merges=["C2:C3"])})
    xml = zipfile.ZipFile(file).read("xl/worksheets/sheet2.xml").replace(b'"C2:C3"', b'"C2:C1048576"')
    file = with_member(file, "xl/worksheets/sheet2.xml", xml)
    error = refused(file, U, 3, "C", "C2:C1048576")
    assert "取消合并" in error.message
