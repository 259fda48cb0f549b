"""HQ's working-calendar pages: the year's notice as a typed table or XLSX (strict, all or
nothing), the working hours with their history, the home-page warning, and who may."""

import datetime as dt
import io
from typing import cast

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from org.audit import Actor
from org.models import AuditLog, Role, Unit
from org.tests.factories import UnitFactory, member
from workdays import services
from workdays.calendar import is_known_year, is_workday
from workdays.models import CalendarDay, HolidayYear, WorkSchedule
from workdays.notice import COLUMNS, NoticeError, rows_from_text

pytestmark = pytest.mark.django_db
TABLE = """2027-01-01 2027-01-03 放假 元旦
2027-02-06 2027-02-13 放假 春节
2027-02-14 2027-02-14 上班 春节调休
2027-02-20 2027-02-20 上班 春节调休"""


@pytest.fixture
def hq(client):
    user = member(cast(Unit, UnitFactory(code="HQ", kind=Unit.Kind.HQ)), Role.HQ_ADMIN, username="hq")
    client.force_login(user)
    return user


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: dt.date(2026, 12, 1))


def xlsx(rows) -> io.BytesIO:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
        for cell in workbook.active[workbook.active.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # as a spreadsheet stores typed text
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    out.name = "2027.xlsx"
    return out


def test_hq_enters_next_years_notice_as_a_table(client, hq, today):
    assert not is_known_year(2027)
    response = client.post(
        reverse("workdays:year", args=[2027]), {"source": "国办发明电〔2026〕", "table": TABLE}
    )
    assert response.status_code == 302
    assert is_known_year(2027)
    assert not is_workday(dt.date(2027, 1, 1)) and not is_workday(dt.date(2027, 2, 8))
    assert is_workday(dt.date(2027, 2, 14))  # a Sunday worked
    assert CalendarDay.objects.filter(date__year=2027).count() == 3 + 8 + 1 + 1
    entry = HolidayYear.objects.get(year=2027)
    assert (entry.entered_by, entry.source) == (hq, "国办发明电〔2026〕")
    assert AuditLog.objects.filter(action="workdays.enter_year", actor=hq).count() == 1
    page = client.get(reverse("workdays:year", args=[2027])).content.decode()
    assert "2027-02-06" in page and "春节调休" in page
    # Entered again: the year's days are exactly the new table.
    client.post(
        reverse("workdays:year", args=[2027]), {"source": "", "table": "2027-10-01 2027-10-07 放假 国庆节"}
    )
    assert set(CalendarDay.objects.filter(date__year=2027).values_list("name", flat=True)) == {"国庆节"}


def test_a_table_with_any_error_saves_nothing(client, hq, today):
    bad = (
        TABLE
        + "\n2027-02-13 2027-02-13 上班 重复\n2028-01-01 2028-01-01 放假 明年\n2027-03-01 2027-03-01 调休 ?"
    )
    response = client.post(reverse("workdays:year", args=[2027]), {"source": "", "table": bad})
    assert response.status_code == 200
    page = response.content.decode()
    assert "第 5 行" in page and "第 6 行" in page and "第 7 行" in page
    assert not CalendarDay.objects.exists() and not HolidayYear.objects.exists()


def test_the_text_table_accepts_a_pasted_header_and_tabs():
    rows = rows_from_text("\t".join(COLUMNS) + "\n2027-05-01\t2027-05-05\t放假\t劳动节", 2027)
    assert [(r.start, r.end, r.is_workday, r.name) for r in rows] == [
        (dt.date(2027, 5, 1), dt.date(2027, 5, 5), False, "劳动节")
    ]
    with pytest.raises(NoticeError):
        rows_from_text("2027-05-05 2027-05-01 放假 倒序", 2027)
    with pytest.raises(NoticeError):
        rows_from_text("", 2027)


def test_xlsx_import_is_strict_and_the_download_reimports_unchanged(client, hq, today):
    url = reverse("workdays:year", args=[2027])
    wrong_header = xlsx([["日期", "结束", "安排", "名称"], ["2027-01-01", "2027-01-01", "放假", "元旦"]])
    response = client.post(url, {"source": "", "file": wrong_header})
    assert "表头" in response.content.decode() and not CalendarDay.objects.exists()
    good = xlsx(
        [
            COLUMNS,
            [dt.datetime(2027, 1, 1), dt.datetime(2027, 1, 3), "放假", "元旦"],
            ["2027-02-14", None, "上班", "=调休"],
        ]
    )
    assert client.post(url, {"source": "通知", "file": good}).status_code == 302
    assert CalendarDay.objects.get(date=dt.date(2027, 2, 14)).name == "=调休"
    download = client.get(url, {"download": 1})
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows == [
        tuple(COLUMNS),
        ("2027-01-01", "2027-01-03", "放假", "元旦"),
        ("2027-02-14", "2027-02-14", "上班", "=调休"),
    ]
    assert workbook.active["D3"].data_type == "s"  # text, not a formula
    before = list(CalendarDay.objects.values_list("date", "is_workday", "name"))
    again = io.BytesIO(b"".join(client.get(url, {"download": 1}).streaming_content))
    again.name = "again.xlsx"
    assert client.post(url, {"source": "通知", "file": again}).status_code == 302
    assert list(CalendarDay.objects.values_list("date", "is_workday", "name")) == before


def test_not_an_xlsx_file(client, hq, today):
    fake = io.BytesIO(b"not a workbook")
    fake.name = "x.xlsx"
    response = client.post(reverse("workdays:year", args=[2027]), {"source": "", "file": fake})
    assert "不是有效的 XLSX" in response.content.decode()


def test_new_working_hours_start_tomorrow_at_the_earliest(client, hq, today):
    url = reverse("workdays:calendar")
    hours = {
        "name": "冬夏作息",
        "morning_start": "08:30",
        "morning_end": "12:00",
        "afternoon_start": "14:00",
        "afternoon_end": "17:30",
        "summer_from": "05-01",
        "summer_until": "09-30",
        "summer_morning_start": "08:30",
        "summer_morning_end": "12:00",
        "summer_afternoon_start": "14:30",
        "summer_afternoon_end": "18:00",
    }
    response = client.post(url, {**hours, "valid_from": "2026-12-01"})
    assert "明天或以后" in response.content.decode() and not WorkSchedule.objects.exists()
    response = client.post(url, {**hours, "valid_from": "2026-12-02", "afternoon_end": "13:00"})
    assert "依次为" in response.content.decode() and not WorkSchedule.objects.exists()
    assert client.post(url, {**hours, "valid_from": "2026-12-02"}).status_code == 302
    schedule = WorkSchedule.objects.get()
    assert schedule.in_summer(dt.date(2027, 7, 1)) and not schedule.in_summer(dt.date(2027, 10, 8))
    assert "2026-12-02" in client.get(url).content.decode()


def test_only_hq_manages_the_calendar(client, today):
    handler = member(cast(Unit, UnitFactory()), Role.HANDLER, username="handler")
    client.force_login(handler)
    assert client.get(reverse("workdays:calendar")).status_code == 403
    assert client.post(reverse("workdays:year", args=[2027]), {"table": TABLE}).status_code == 403
    assert not CalendarDay.objects.exists()
    with pytest.raises(Exception, match="角色"):
        services.enter_holiday_year(Actor(handler), 2027, rows_from_text(TABLE, 2027))


def test_hq_home_warns_from_october_until_next_year_is_entered(client, hq, today):
    assert "尚未录入 2027 年节假日安排" in client.get("/").content.decode()
    services.enter_holiday_year(Actor(hq), 2027, rows_from_text(TABLE, 2027))
    assert "尚未录入" not in client.get("/").content.decode()
