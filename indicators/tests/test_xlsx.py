"""Import and export of an index system as XLSX: the sample round trip and every validation error."""

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook

from indicators import services, xlsx
from indicators.models import Criterion, IndexItem, IndexProject, IndexSystem
from org.audit import Actor
from org.models import Role, Unit
from org.tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db

HEADER = xlsx.COLUMNS
GOOD = [
    ["A", "项目甲", 10, "A01", "内容一", 6, "A01-1", "标准一", 4, "实地考察", "每月"],
    ["A", "项目甲", 10, "A01", "内容一", 6, "A01-2", "标准二", 2, "问卷调查", "每年"],
    ["A", "项目甲", 10, "A02", "内容二", 4, "A02-1", "标准三", 4, "材料审核", "每季度"],
    ["B", "项目乙", 2.5, "B01", "内容三", 2.5, "B01-1", "标准四", 2.5, "材料审核", "常态"],
]


def workbook(rows, header=HEADER, sheet=xlsx.SHEET) -> io.BytesIO:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


@pytest.fixture
def hq():
    return Actor(member(UnitFactory(code="HQ", kind=Unit.Kind.HQ), Role.HQ_ADMIN))


def do_import(hq, rows, version="v1", **kwargs):
    return services.import_system(
        hq, workbook(rows, **kwargs), name="体系", version=version, campaign_year=2026
    )


def errors(result) -> list[tuple[int, str, str]]:
    return [
        (e.row, e.column.split("（")[1].rstrip("）") if "（" in e.column else e.column, e.message)
        for e in result.errors
    ]


def test_good_file_builds_the_tree(hq):
    system, result = do_import(hq, GOOD)
    assert result.ok, result.errors
    assert result.counts == {"测评项目": 2, "测评内容": 3, "测评标准": 4}
    assert [p.code for p in system.projects.all()] == ["A", "B"]
    item = IndexItem.objects.get(code="A01")
    assert [(c.code, c.method, c.frequency) for c in item.criteria.all()] == [
        ("A01-1", Criterion.Method.FIELD, Criterion.Frequency.MONTHLY),
        ("A01-2", Criterion.Method.SURVEY, Criterion.Frequency.YEARLY),
    ]
    assert str(system.points) == "12.50"


def test_sample_round_trip_exports_the_same_content(hq):
    system, result = services.import_system(
        hq, xlsx.sample_workbook(), name=xlsx.SAMPLE_NAME, version="rt", campaign_year=2026
    )
    assert result.ok, result.errors
    assert system.projects.count() == 7
    assert 55 <= IndexItem.objects.filter(project__system=system).count() <= 65
    exported = load_workbook(xlsx.export_system(system), read_only=True)[xlsx.SHEET]
    exported_rows = [[str(v) for v in row] for row in exported.iter_rows(values_only=True)]
    with xlsx.SAMPLE.open(encoding="utf-8") as handle:
        assert exported_rows == list(csv.reader(handle))
    again, result = services.import_system(
        hq, xlsx.export_system(system), name="再导入", version="rt", campaign_year=2027
    )
    assert result.ok
    assert xlsx.tree_rows(again) == xlsx.tree_rows(system)


@pytest.mark.parametrize(
    "change, expected",
    [
        ({1: {6: "A01-1"}}, (3, "G", "与第2行重复：A01-1")),
        ({0: {3: "X01"}}, (2, "D", "应以所属项目编码「A」开头")),
        ({0: {6: "A02-9"}}, (2, "G", "应以所属内容编码「A01」开头")),
        ({0: {9: "电话抽查"}}, (2, "J", "未知测评方法「电话抽查」")),
        ({0: {10: "每周"}}, (2, "K", "未知测评频次「每周」")),
        ({0: {8: "abc"}}, (2, "I", "分值应为数字：abc")),
        ({0: {8: -1}}, (2, "I", "分值应为大于 0")),
        ({0: {7: None}}, (2, "H", "不能为空")),
        ({1: {4: "内容一改"}}, (3, "E", "在第2行名称为「内容一」")),
        ({1: {5: 7}}, (3, "F", "在第2行分值为 6")),
        ({2: {1: "项目丙"}}, (4, "B", "在第2行名称为「项目甲」")),
        ({0: {3: "A a"}}, (2, "D", "格式不正确")),
    ],
)
def test_each_error_names_row_and_column_and_imports_nothing(hq, change, expected):
    rows = [list(r) for r in GOOD]
    for index, cells in change.items():
        for col, value in cells.items():
            rows[index][col] = value
    system, result = do_import(hq, rows)
    assert system is None
    row, letter, message = expected
    assert any(
        e.row == row and e.column.startswith(letter) and message in e.message for e in result.errors
    ), [str(e) for e in result.errors]
    assert not IndexSystem.objects.exists() and not IndexProject.objects.exists()


def test_points_must_add_up(hq):
    rows = [list(r) for r in GOOD]
    rows[1][8] = 3  # criteria of A01: 4 + 3 = 7, declared 6
    rows[3][2] = 3  # project B declares 3, its item 2.5
    _system, result = do_import(hq, rows)
    messages = [str(e) for e in result.errors]
    assert any("第2行 F（内容分值）" in m and "合计 7" in m for m in messages), messages
    assert any("第5行 C（项目分值）" in m and "合计 2.5" in m for m in messages), messages
    assert not IndexSystem.objects.exists()


def test_an_item_cannot_belong_to_two_projects(hq):
    rows = [list(r) for r in GOOD]
    rows.append(["B", "项目乙", 2.5, "A02", "内容二", 4, "A02-2", "标准五", 1, "材料审核", "常态"])
    _system, result = do_import(hq, rows)
    assert any(e.row == 6 and "不能同时属于「B」" in e.message for e in result.errors)


def test_wrong_header_sheet_or_file_is_reported(hq):
    _s, result = do_import(hq, GOOD, header=["编码", *HEADER[1:]])
    assert result.errors[0].row == 1 and "表头缺少列：项目编码" in result.errors[0].message
    _s, result = do_import(hq, GOOD, sheet="Sheet1")
    assert "缺少工作表「测评体系」" in result.errors[0].message
    _s, result = services.import_system(
        hq, io.BytesIO(b"not a workbook"), name="x", version="1", campaign_year=2026
    )
    assert "不是有效的 XLSX 工作簿" in result.errors[0].message
    _s, result = do_import(hq, [])
    assert "没有任何测评标准" in result.errors[0].message


def test_same_name_and_version_is_refused(hq):
    do_import(hq, GOOD)
    system, result = do_import(hq, GOOD)
    assert system is None and "已存在" in result.errors[0].message
    assert IndexSystem.objects.count() == 1


def test_only_hq_imports(hq):
    from django.core.exceptions import PermissionDenied

    unit_actor = Actor(member(UnitFactory(), Role.HANDLER))
    with pytest.raises(PermissionDenied):
        do_import(unit_actor, GOOD)


def test_one_active_system_per_year(hq):
    first, _ = do_import(hq, GOOD, version="v1")
    second, _ = do_import(hq, GOOD, version="v2")
    services.activate_system(hq, first)
    services.activate_system(hq, second)
    first.refresh_from_db()
    assert not first.is_active and IndexSystem.active(2026) == second
