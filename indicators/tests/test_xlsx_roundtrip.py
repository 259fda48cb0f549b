"""The index-system export and the 责任分解表 write text as text: hostile names and acceptance
standards are never formulas, and the system export re-imports unchanged."""

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from indicators import services, xlsx
from indicators.models import Criterion
from indicators.tests.factories import CriterionFactory, IndexItemFactory, TaskFactory
from org.tests.test_xlsx_roundtrip import HOSTILE

pytestmark = pytest.mark.django_db


def text_cells_only(content: bytes) -> set:
    book = load_workbook(io.BytesIO(content))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    return {c.value for c in cells if c.data_type == "s"}


def test_hostile_system_exports_as_text_and_reimports_unchanged(world):
    world.item.project.name = HOSTILE[0]
    world.item.project.save()
    for n, value in enumerate(HOSTILE):
        item = IndexItemFactory(project=world.item.project, name=value, code=f"{world.item.project.code}H{n}")
        CriterionFactory(item=item, text=value, code=f"{item.code}-1")
    project = world.item.project
    project.points = sum(i.points for i in project.items.all())
    project.save()
    for item in project.items.all():
        item.points = sum(c.points for c in item.criteria.all())
        item.save()
    exported = xlsx.export_system(world.system).getvalue()
    assert text_cells_only(exported) >= set(HOSTILE)
    again, result = services.import_system(
        world.actor(world.hq), io.BytesIO(exported), name="再导入", version="rt", campaign_year=2027
    )
    assert result.ok, [str(e) for e in result.errors]
    assert xlsx.tree_rows(again) == xlsx.tree_rows(world.system)
    assert Criterion.objects.filter(item__project__system=again, text="=1+1").exists()


def test_responsibility_table_writes_hostile_text_as_text(world):
    world.item.name = "=1+1"
    world.item.save()
    tasks = [
        TaskFactory(
            item=world.item, lead_unit=world.dept, acceptance_standard=value, deadline=dt.date(2026, 12, 31)
        )
        for value in HOSTILE
    ]
    content = xlsx.export_responsibility(world.system, tasks).getvalue()
    assert text_cells_only(content) >= set(HOSTILE)
