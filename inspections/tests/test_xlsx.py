"""Checklists through XLSX: export → import changes nothing; a file with any error imports
nothing and names row and column; lines used by inspections are not removed."""

import io
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook, load_workbook

from inspections import services, xlsx
from inspections.models import CheckItem, Checklist

from .conftest import actor, lines, plan


def rows_of(data: io.BytesIO) -> list[tuple]:
    return list(load_workbook(data).active.iter_rows(values_only=True))


def workbook(rows: list[list]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.title = xlsx.SHEET
    sheet.append(xlsx.COLUMNS)
    for number, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            cell = sheet.cell(number, col, value)
            if isinstance(value, str):
                cell.data_type = "s"  # as a person types it: text, even when it starts with =
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def snapshot():
    return list(
        CheckItem.objects.order_by("checklist__site_kind", "position").values_list(
            "checklist__site_kind",
            "code",
            "text",
            "points",
            "rule",
            "unit_deduction",
            "cap",
            "photo_required",
            "category_id",
            "position",
        )
    )


def test_export_then_import_changes_nothing(world, insp):
    exported = xlsx.export_checklists(insp.system)
    rows = rows_of(io.BytesIO(exported.getvalue()))
    assert rows[0] == tuple(xlsx.COLUMNS)
    assert rows[1] == ("market", "A", "市场内无暴露垃圾", 10, "每处扣分（封顶）", 2, 6, "是", "事件", "0102")
    before = snapshot()
    result = services.import_checklists(actor(world.hq), insp.system, exported)
    assert result.ok and result.counts == {"新增": 0, "更新": 3, "删除": 0}
    assert snapshot() == before


def test_an_import_builds_a_new_type_and_rewrites_an_old_one(world, insp):
    result = services.import_checklists(
        actor(world.hq),
        insp.system,
        workbook(
            [
                ["market", "A", "=SUM(1)", 10, "不合格扣全部分值", 10, None, "否", None, None],
                ["school", "B", "校门口整洁", 5, "发现问题扣固定分", 2, None, "是", "事件", "0303"],
            ]
        ),
    )
    assert result.ok, result.errors
    market = Checklist.objects.get(site_kind="market").items.get()
    assert (market.code, market.text, market.rule, market.photo_required) == (
        "A",
        "=SUM(1)",
        "fail_all",
        False,
    )
    school = Checklist.objects.get(site_kind="school").items.get()
    assert (school.points, school.category, school.unit_deduction) == (5, world.road, 2)
    again = rows_of(xlsx.export_checklists(insp.system))
    assert again[1][2] == "=SUM(1)"  # exported as text, read back unchanged


def test_a_file_with_any_error_imports_nothing(world, insp):
    before = snapshot()
    result = services.import_checklists(
        actor(world.hq),
        insp.system,
        workbook(
            [
                ["market", "A", "ok", 10, "每处扣分（封顶）", 2, 6, "是", None, None],
                ["nowhere", "A", "x", 5, "发现问题扣固定分", 2, None, "是", None, None],
                ["market", "M", "材料审核的标准", 5, "发现问题扣固定分", 2, None, "是", None, None],
                ["market", "B", "y", 5, "乱扣", 9, None, "也许", "事件", "9999"],
                ["market", "A", "dup", 10, "每处扣分（封顶）", 2, None, "是", None, None],
            ]
        ),
    )
    assert not result.ok
    messages = {(e.row, e.column.split("（")[0]) for e in result.errors}
    assert {(3, "A"), (4, "B"), (5, "E"), (5, "F"), (5, "H"), (5, "J"), (6, "B")} <= messages
    assert snapshot() == before
    assert not services.import_checklists(actor(world.hq), insp.system, io.BytesIO(b"not a workbook")).ok


def test_lines_already_used_are_not_removed(world, insp):
    round_ = plan(world, insp)
    services.submit_inspection(actor(world.inspector), round_, insp.m1, uid=uuid.uuid4(), lines=lines(insp))
    result = services.import_checklists(
        actor(world.hq),
        insp.system,
        workbook([["market", "A", "only A", 10, "每处扣分（封顶）", 2, None, "是", None, None]]),
    )
    assert not result.ok and "已有检查记录" in str(result.errors[0])
    assert Checklist.objects.get(site_kind="market").items.count() == 3


def test_only_hq_imports(world, insp):
    with pytest.raises(PermissionDenied):
        services.import_checklists(actor(world.inspector), insp.system, xlsx.export_checklists(insp.system))
