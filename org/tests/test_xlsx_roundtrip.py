"""Exports write text as text: hostile values (formulas, signs, @) are exported as text cells and
re-import unchanged."""

import io

import pytest
from openpyxl import load_workbook

from org import xlsx
from org.models import Membership, Region, Role, Unit, User
from org.tests.test_xlsx_corpus import hq as hq  # noqa: F401 (the autouse fixture)
from org.tests.test_xlsx_corpus import hq_actor, snapshot

pytestmark = pytest.mark.django_db

HOSTILE = [
    '=HYPERLINK("http://evil.example/","点我")',
    "=1+1",
    "+1",
    "-1",
    "@x",
    "=cmd|' /C calc'!A0",
    "0102",
]


def hostile_world() -> None:
    district = Region.objects.create(code="D", name=HOSTILE[0], level=Region.Level.DISTRICT)
    for n, value in enumerate(HOSTILE):
        street = Region.objects.create(code=f"S{n}", name=value, level=Region.Level.STREET, parent=district)
        unit = Unit.objects.create(
            code=f"U{n}", name=value, short_name=value[:40], kind=Unit.Kind.DEPARTMENT, region=street
        )
        username = {"+1": "+1", "-1": "-1", "@x": "@x"}.get(value, f"user{n}")
        user = User.objects.create(username=username, display_name=value[:50])
        Membership.objects.create(user=user, unit=unit, role=Role.HANDLER)


def test_hostile_values_are_exported_as_text_and_reimport_unchanged():
    hostile_world()
    before = snapshot()
    exported = xlsx.export_workbook(hq_actor())
    book = load_workbook(io.BytesIO(exported.getvalue()))  # formulas would read as data_type "f"
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type != "s"]
    assert {c.value for c in cells} >= set(HOSTILE)
    result = xlsx.import_workbook(hq_actor(), exported)
    assert result.ok, [str(e) for e in result.errors]
    assert snapshot() == before
    assert all(tally[xlsx.CREATED] == tally[xlsx.CHANGED] == 0 for tally in result.changes.values())
