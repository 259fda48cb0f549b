"""The streamed XLSX export of the filtered case list."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases.export import CASE_COLUMNS
from cases.models import Case
from cases.tests.factories import CaseFactory, CasePartFactory

pytestmark = pytest.mark.django_db


def workbook(response):
    assert isinstance(response, StreamingHttpResponse)
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_export_holds_the_filtered_cases_with_their_facts(client, world):
    now = timezone.now()
    late = CaseFactory(
        status=Case.Status.DISPATCHED,
        region=world.c1,
        category=world.road,
        lead_unit=world.dept,
        address='=HYPERLINK("http://x")',
        due_at=now - dt.timedelta(hours=2),
        rework_count=2,
    )
    CaseFactory(status=Case.Status.CLOSED, region=world.c1, category=world.garbage)
    client.force_login(world.dispatcher)
    response = client.get(reverse("cases:export"), {"state": "overdue"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    sheet = workbook(response)["案件"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == CASE_COLUMNS
    assert len(rows) == 2
    row = dict(zip(CASE_COLUMNS, rows[1], strict=True))
    assert row["案件编号"] == late.number
    assert row["小类"] == world.road.name and row["状态"] == "已派遣"
    assert row["所在区域"] == world.c1.name and row["主办单位"] == world.dept.name
    assert row["超期"] == "是" and row["返工次数"] == 2
    assert row["地址"] == late.address  # kept as text, never turned into a formula
    assert sheet.cell(row=2, column=CASE_COLUMNS.index("地址") + 1).data_type == "s"
    local_due = timezone.localtime(late.due_at).replace(tzinfo=None)  # Beijing wall-clock time
    assert abs(row["当前环节时限"] - local_due) < dt.timedelta(seconds=1)


def test_export_is_limited_to_the_scope(client, world):
    mine = CaseFactory(status=Case.Status.DISPATCHED, lead_unit=world.dept)
    CasePartFactory(case=mine, unit=world.dept)
    CaseFactory(status=Case.Status.DISPATCHED, lead_unit=world.dept2)
    client.force_login(world.handler)
    rows = list(workbook(client.get(reverse("cases:export")))["案件"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [mine.number]


def _export_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("cases:export"))
        b"".join(response.streaming_content)
    return len(ctx.captured_queries)


def test_export_takes_the_same_queries_for_few_or_many_rows(client, world):
    client.force_login(world.dispatcher)
    CaseFactory.create_batch(3, region=world.c1, lead_unit=world.dept, status=Case.Status.DISPATCHED)
    few = _export_queries(client)
    CaseFactory.create_batch(300, region=world.c1, lead_unit=world.dept, status=Case.Status.DISPATCHED)
    assert _export_queries(client) == few
    rows = list(workbook(client.get(reverse("cases:export")))["案件"].iter_rows(values_only=True))
    assert len(rows) == 304


def test_hostile_text_is_exported_as_text_and_reads_back_unchanged(client, world):
    """Every export writes text as text: values an attacker or a typo starts with = + - @ come back
    through the import reading layer exactly as stored."""
    from org import sheets
    from org.tests.test_xlsx_roundtrip import HOSTILE

    made = [
        CaseFactory(status=Case.Status.DISPATCHED, region=world.c1, description=value, address=value[:200])
        for value in HOSTILE
    ]
    client.force_login(world.dispatcher)
    content = b"".join(client.get(reverse("cases:export")).streaming_content)
    book = load_workbook(io.BytesIO(content))
    cells = [c for row in book["案件"].iter_rows() for c in row if c.value in HOSTILE]
    assert len(cells) == 2 * len(HOSTILE) and {c.data_type for c in cells} == {"s"}
    spec = sheets.SheetSpec(
        "案件",
        (
            sheets.Column("案件编号", sheets.Kind.CODE),
            sheets.Column("地址"),
            sheets.Column("问题描述", sheets.Kind.TEXT),
        ),
    )
    result = sheets.ImportResult()
    read = sheets.read_workbook(io.BytesIO(content), [spec], result)
    assert read is not None, [str(e) for e in result.errors]
    got = {row.values["案件编号"]: (row.values["地址"], row.values["问题描述"]) for row in read["案件"].rows}
    assert got == {case.number: (case.address, case.description) for case in made}
