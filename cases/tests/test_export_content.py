"""The XLSX export reads back exactly as the openpyxl export it replaced: same header, same rows
(values, types, wall-clock times), for cases with and without region, grid, lead unit and dates."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from cases.export import CASE_COLUMNS
from cases.models import Case
from cases.tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def _local(moment):
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def previous_row(case: Case, now: dt.datetime) -> list:
    """The row as the openpyxl export built it from the case object."""
    return [
        case.number,
        case.get_source_display(),
        case.category.get_kind_display(),
        case.category.major_name,
        case.category.name,
        case.get_status_display(),
        "是" if case.urgent else "",
        case.region.name if case.region else "",
        case.grid.name if case.grid else "",
        case.address,
        case.description,
        case.lead_unit.name if case.lead_unit else "",
        _local(case.reported_at),
        _local(case.accepted_at),
        _local(case.dispatched_at),
        _local(case.handle_deadline),
        _local(case.handled_at),
        _local(case.closed_at),
        _local(case.due_at),
        "是" if case.is_overdue(now) else "",
        case.rework_count,
        case.return_count,
        case.extension_count,
        float(case.lat),
        float(case.lng),
    ]


def previous_workbook(cases: list[Case]) -> bytes:
    """What the openpyxl write-only export wrote for these cases."""
    now = timezone.now()
    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet(title="案件")
    ws.append(CASE_COLUMNS)
    for case in cases:
        cells = []
        for value in previous_row(case, now):
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                value = cell
            cells.append(value)
        ws.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def sheet_rows(data: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(data))["案件"].iter_rows(values_only=True))


def test_export_reads_back_as_the_previous_export(client, world):
    now = timezone.now()
    w = world
    cases = [
        CaseFactory(
            status=Case.Status.DISPATCHED,
            region=w.c1,
            grid=w.grid,
            category=w.road,
            lead_unit=w.dept,
            urgent=True,
            address='=HYPERLINK("http://x")',
            description="井盖缺失\n第二行 <b>&</b>",
            reported_at=now - dt.timedelta(days=3, seconds=17),
            accepted_at=now - dt.timedelta(days=2, minutes=7),
            dispatched_at=now - dt.timedelta(days=2),
            handle_deadline=now - dt.timedelta(hours=5),
            due_at=now - dt.timedelta(hours=5),
            rework_count=2,
            return_count=1,
            extension_count=3,
        ),
        CaseFactory(status=Case.Status.REPORTED, region=None, grid=None, category=w.garbage, address=""),
        CaseFactory(
            status=Case.Status.CLOSED,
            region=w.c2,
            category=w.gas,
            lead_unit=w.dept2,
            reported_at=now - dt.timedelta(days=40),
            handled_at=now - dt.timedelta(days=30),
            closed_at=now - dt.timedelta(days=29),
            due_at=now - dt.timedelta(days=31),  # closed: never overdue
        ),
    ]
    client.force_login(w.dispatcher)
    response = client.get(reverse("cases:export"))
    exported = sheet_rows(b"".join(response.streaming_content))
    ordered = sorted(cases, key=lambda c: (c.reported_at, c.pk))
    expected = sheet_rows(previous_workbook([Case.objects.get(pk=c.pk) for c in ordered]))
    assert exported == expected
    assert list(exported[0]) == CASE_COLUMNS and len(exported) == 4
    reported = dict(zip(CASE_COLUMNS, exported[3], strict=True))  # oldest first: closed, dispatched, reported
    assert reported["地址"] is None and reported["所在区域"] is None  # empty cells, as before
    urgent = dict(zip(CASE_COLUMNS, exported[2], strict=True))
    assert urgent["紧急"] == "是" and urgent["超期"] == "是" and urgent["地址"] == '=HYPERLINK("http://x")'
