"""The pages: today's duty, a patrol run through the forms, the social list per role, the
roster, the coverage table."""

import datetime as dt

from django.urls import reverse

from cases.models import Case
from org.models import AuditLog, Unit
from org.tests.factories import RegionFactory, UnitFactory
from streets import services
from streets.models import CheckIn, Duty, Patrol, Report

from .conftest import actor, jpeg

HERE = {"lat": "31.845000", "lng": "106.730000"}


def test_patrol_through_the_pages(client, world, st):
    services.generate_week(actor(st.staff), world.committee, dt.date(2026, 3, 2))
    client.force_login(world.chief)
    page = client.get(reverse("streets:today")).content.decode()
    assert "一街" in page and "开始巡查" in page
    r = client.post(reverse("streets:start"), HERE)
    patrol = Patrol.objects.get()
    assert r.url == reverse("streets:patrol", args=[patrol.pk])
    page = client.get(r.url).content.decode()
    assert "在「一街」签到" in page and "六必报" in page and "<script>" not in page
    step = lambda name: reverse("streets:patrol_step", args=[patrol.pk, name])  # noqa: E731
    client.post(step("check_in"), {"segment": st.seg1.pk, **HERE})
    assert CheckIn.objects.filter(patrol=patrol, segment=st.seg1).exists()
    r = client.post(
        step("report"), {"kind": "facility", "description": "井盖破损", **HERE, "photos": jpeg()}, follow=True
    )
    case = Case.objects.get()
    assert f"已立案上报，案件编号 {case.number}" in r.content.decode()
    r = client.post(step("report"), {"kind": "facility", "description": "缺照片", **HERE}, follow=True)
    assert "请上传问题照片" in r.content.decode() and Report.objects.count() == 1
    client.post(
        reverse("streets:visit"), {"patrol": patrol.pk, "kind": "volunteer", "place": "社区广场", **HERE}
    )
    r = client.post(step("end"), HERE, follow=True)
    patrol.refresh_from_db()
    assert patrol.status == "ended" and patrol.summary["segments"] == 1 and patrol.summary["visits"] == 1
    assert "巡查已结束" in r.content.decode()


def test_patrol_off_roster_is_flagged_on_the_page(client, world, st):
    client.force_login(world.collector2)
    r = client.post(reverse("streets:start"), {"lat": "31.85", "lng": "106.75"}, follow=True)
    assert "未排班巡查" in r.content.decode()


def test_social_page_per_role(client, world, st):
    patrol = services.start_patrol(actor(world.chief), *HERE.values())
    item = services.report(
        actor(world.chief),
        patrol,
        kind="newcomer",
        description="新住户",
        lat=HERE["lat"],
        lng=HERE["lng"],
        person_name="孙六",
        person_phone="13500003333",
    )
    client.force_login(st.staff)
    page = client.get(reverse("streets:social")).content.decode()
    assert "新住户" in page and "孙*" in page and "孙六" not in page and "135****3333" in page
    page = client.post(reverse("streets:reveal", args=[item.pk])).content.decode()
    assert "孙六" in page and "13500003333" in page
    assert AuditLog.objects.filter(action="streets.person_read").count() == 1
    client.force_login(st.staff2)
    assert "新住户" not in client.get(reverse("streets:social")).content.decode()
    assert client.post(reverse("streets:reveal", args=[item.pk])).status_code == 404


def test_roster_and_coverage_pages(client, world, st):
    client.force_login(st.staff)
    r = client.post(
        reverse("streets:roster"), {"unit": world.committee.pk, "week": "2026-03-04"}, follow=True
    )
    assert "已生成排班 14 条" in r.content.decode()
    assert Duty.objects.filter(day=dt.date(2026, 3, 2)).count() == 2
    page = client.get(reverse("streets:coverage") + "?day=2026-03-02").content.decode()
    assert world.committee.name in page and "0%" in page
    c3 = RegionFactory(code="S1C3", name="三社区", level="community", parent=world.s1)
    UnitFactory(code="S1C3", name="三社区居委会", kind=Unit.Kind.COMMUNITY_COMMITTEE, region=c3)
    client.force_login(world.hq)
    page = client.get(reverse("streets:coverage") + "?day=2026-03-02").content.decode()
    assert page.count('<span class="muted">无数据</span>') == 1  # 三社区 has no segments
    client.force_login(world.handler)  # a department's handler: nothing to roster or read
    assert "没有巡查排班" in client.get(reverse("streets:roster")).content.decode()
    assert "没有可查看的覆盖率" in client.get(reverse("streets:coverage")).content.decode()
    assert client.post(reverse("streets:roster"), {"week": "2026-03-02"}).status_code == 200
    assert not Duty.objects.filter(day=dt.date(2026, 3, 9)).exists()


def test_single_duties_are_added_swapped_and_cancelled_on_the_roster_page(client, world, st):
    client.force_login(st.staff)
    url = reverse("streets:roster")
    base = {"unit": world.committee.pk, "week": "2026-03-02"}
    r = client.post(
        url,
        {
            **base,
            "step": "add",
            "day": "2026-03-04",
            "user": world.chief.pk,
            "place": f"segment:{st.seg2.pk}",
        },
        follow=True,
    )
    assert "已添加班次" in r.content.decode()
    duty = Duty.objects.get(day=dt.date(2026, 3, 4), segment=st.seg2)
    r = client.post(
        url,
        {
            **base,
            "step": "add",
            "day": "2026-03-04",
            "user": world.chief.pk,
            "place": f"segment:{st.seg3.pk}",
        },
        follow=True,
    )
    assert "请选择街巷" in r.content.decode()  # 三街 is not the unit's: not offered, refused
    r = client.post(
        url,
        {**base, "step": "swap", "duty": duty.pk, "user": world.collector.pk, "reason": "病假"},
        follow=True,
    )
    assert "已调班" in r.content.decode()
    duty.refresh_from_db()
    assert duty.user == world.collector
    page = client.get(url + "?week=2026-03-02").content.decode()
    assert "调班或取消" in page and "二街" in page
    r = client.post(url, {**base, "step": "cancel", "duty": duty.pk, "reason": ""}, follow=True)
    assert "请填写取消原因" in r.content.decode() and Duty.objects.filter(pk=duty.pk).exists()
    r = client.post(url, {**base, "step": "cancel", "duty": duty.pk, "reason": "改为联合执法"}, follow=True)
    assert "已取消班次" in r.content.decode() and not Duty.objects.exists()


def test_a_grid_worker_checks_in_at_the_segments_of_the_grids_community(client, world, st):
    services.generate_week(actor(st.staff), world.committee, dt.date(2026, 3, 2))
    client.force_login(world.collector)
    r = client.post(reverse("streets:start"), HERE, follow=True)
    page = r.content.decode()
    assert "在「一街」签到" in page and "在「二街」签到" in page and "三街" not in page


def test_monthly_log_page_and_api(client, world, st):
    services.generate_week(actor(st.staff), world.committee, dt.date(2026, 3, 2))
    client.force_login(world.chief)
    page = client.get(reverse("streets:log") + "?month=2026-03").content.decode()
    assert "2026年3月" in page and "<b>7</b>排班" in page
    client.force_login(st.staff)
    r = client.get(f"/api/v1/streets/log?user_id={world.chief.pk}&month=2026-03").json()
    assert (r["duties"], r["patrols"], r["missed"], r["month"]) == (7, 0, 7, "2026-03")
    client.force_login(st.staff2)  # another community's staff: the chief is not on its roster
    assert client.get(f"/api/v1/streets/log?user_id={world.chief.pk}").status_code == 403
    assert client.get(reverse("streets:log") + f"?user={world.chief.pk}").status_code == 403
