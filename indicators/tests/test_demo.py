"""The demo: the sample system imported from XLSX, decomposed onto the demo units, and exported
again with the same content; loading twice changes nothing."""

import csv

import pytest
from openpyxl import load_workbook

from indicators import demo, queries, xlsx
from indicators.models import IndexSystem, Task, TaskEvent
from org import demo as org_demo
from org.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    org_demo.load()
    demo.load()
    return IndexSystem.objects.get(name=xlsx.SAMPLE_NAME)


def test_demo_imports_decomposes_and_exports_the_sample(loaded):
    assert loaded.is_active and IndexSystem.active() == loaded
    assert loaded.projects.count() == 7
    tasks = Task.objects.filter(item__project__system=loaded)
    assert tasks.count() == len(demo.DECOMPOSITION)
    assert set(tasks.values_list("lead_unit__code", flat=True)) == {
        lead for lead, _ in demo.DECOMPOSITION.values()
    }
    exported = load_workbook(xlsx.export_system(loaded), read_only=True)[xlsx.SHEET]
    with xlsx.SAMPLE.open(encoding="utf-8") as handle:
        assert [[str(v) for v in row] for row in exported.iter_rows(values_only=True)] == list(
            csv.reader(handle)
        )


def test_loading_twice_changes_nothing(loaded):
    before = (Task.objects.count(), TaskEvent.objects.count(), IndexSystem.objects.count())
    demo.load()
    assert (Task.objects.count(), TaskEvent.objects.count(), IndexSystem.objects.count()) == before

    # Every state, reopening, 五落实 gaps, a unit's board and both warning levels are on show.
    states = set(Task.objects.values_list("state", flat=True))
    assert states == {s.value for s in Task.State}
    assert Task.objects.filter(reopen_count__gt=0).exists()
    missing = {label for row in queries.five_check(loaded) for label in row.missing}
    assert missing == {"任务", "责任人", "进度计划"}
    rows = queries.board(queries.visible_tasks(User.objects.get(username="handler")))
    assert rows and all(
        t.lead_unit.code == "D-城管局" or t.co_units.filter(code="D-城管局").exists() for t, _ in rows
    )
    assert {w.level for _, w in queries.board(Task.objects.all())} >= {"red", "yellow"}
