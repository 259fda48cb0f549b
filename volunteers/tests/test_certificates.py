"""The service certificate: printable, with a code the public page verifies; a changed code fails."""

import datetime as dt
import io
import re
from decimal import Decimal

import pypdf
import pytest
from django.test import Client
from django.utils import timezone

from volunteers import certificates
from volunteers.models import Activity, Attendance

pytestmark = pytest.mark.django_db


def test_a_certificate_carries_confirmed_hours_and_verifies(world):
    start = timezone.now()
    activity = Activity.objects.create(team=world.team, kind="theory", title="宣讲", place="礼堂", starts_at=start,
                                       ends_at=start + dt.timedelta(hours=2), capacity=5)  # fmt: skip
    Attendance.objects.create(
        volunteer=world.alice, activity=activity, hours=Decimal("2.5"), confirmed_at=start
    )
    Attendance.objects.create(
        volunteer=world.alice,
        activity=Activity.objects.create(team=world.team, kind="theory", title="未确认", place="x", starts_at=start,
                                         ends_at=start + dt.timedelta(hours=1), capacity=5),
        hours=Decimal("9"),
    )  # fmt: skip
    issued = certificates.issue(world.alice)
    assert (issued.hours, issued.activities, issued.orders, issued.name) == (Decimal("2.5"), 1, 0, "王**")
    assert certificates.verify(issued.code) == issued
    assert certificates.verify(issued.code[:-2] + "xx") is None

    alice = Client()
    alice.force_login(world.alice.user)
    page = alice.get("/volunteers/certificate/").content.decode()
    assert "2.50" in page
    # the code is signed with its time, so the page's own code is the one to check
    (code,) = re.findall(r"核验码：<span[^>]*>([^<]+)</span>", page)
    checked = Client().get("/volunteers/certificate/verify/", {"code": code}).content.decode()
    assert "证明有效" in checked and "2.50" in checked
    assert (
        "核验码无效" in Client().get("/volunteers/certificate/verify/", {"code": "forged"}).content.decode()
    )
    staff = Client()
    staff.force_login(world.other_staff)
    assert staff.get(f"/volunteers/people/{world.alice.pk}/certificate/").status_code == 404
    staff.force_login(world.station_staff)
    assert staff.get(f"/volunteers/people/{world.alice.pk}/certificate/").status_code == 200


def test_the_certificate_as_pdf(world):
    start = timezone.now()
    activity = Activity.objects.create(team=world.team, kind="theory", title="宣讲", place="礼堂", starts_at=start,
                                       ends_at=start + dt.timedelta(hours=2), capacity=5)  # fmt: skip
    Attendance.objects.create(
        volunteer=world.alice, activity=activity, hours=Decimal("3.5"), confirmed_at=start
    )
    alice = Client()
    alice.force_login(world.alice.user)
    assert "/volunteers/certificate/pdf/" in alice.get("/volunteers/certificate/").content.decode()
    response = alice.get("/volunteers/certificate/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    flat = re.sub(r"\s", "", text)
    assert "志愿服务证明" in flat and "王**" in flat and "3.50小时" in flat
    assert world.alice.name not in flat  # the name is masked as on the page
    (code,) = re.findall(r"核验码：(\S+?)核验地址", flat)
    assert certificates.verify(code) is not None and certificates.verify(code).hours == Decimal("3.50")
    staff = Client()
    staff.force_login(world.other_staff)
    assert staff.get(f"/volunteers/people/{world.alice.pk}/certificate/pdf/").status_code == 404
