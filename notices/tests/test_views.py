"""Pages and API: the inbox with its unread count in the menu, mark read, preferences; HQ's
delivery log (with the worker's state) and robots, a misconfigured robot refused by its test
message; everyone else gets 403."""

import pytest
from django.urls import reverse

from notices.kinds import Kind
from notices.models import Preference, Receipt, Robot, UnitPreference
from notices.outbox import notify
from org.models import Role
from org.tests.factories import UnitFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    unit = UnitFactory(code="D-1", short_name="城管局")
    hq = member(UnitFactory(code="HQ"), Role.HQ_ADMIN, username="hq")
    handler = member(unit, Role.HANDLER, username="handler", email="h@example.cn")
    other = member(unit, Role.HANDLER, username="other")
    for i in range(2):
        notify(Kind.CASE_DISPATCHED, [handler], {"number": f"N{i}"}, "/cases/1/", f"k{i}", units=[unit])
    return unit, hq, handler, other


def login(client, user):
    client.force_login(user)


def test_inbox_unread_count_in_the_menu_and_open_marks_read(client, people):
    unit, hq, handler, other = people
    login(client, handler)
    page = client.get(reverse("notices:inbox"))
    assert page.status_code == 200
    assert page.context["unread_notices"] == 2
    assert "新派案件 N1" in page.content.decode()
    receipt = Receipt.objects.filter(user=handler).first()
    assert client.get(reverse("notices:open", args=[receipt.pk])).url == "/cases/1/"
    assert client.get(reverse("notices:inbox")).context["unread_notices"] == 1
    client.post(reverse("notices:read_all"))
    assert not Receipt.objects.filter(user=handler, read_at__isnull=True).exists()
    login(client, other)
    assert client.get(reverse("notices:open", args=[receipt.pk])).status_code == 404


def test_api_list_unread_count_and_mark_read(client, people):
    unit, hq, handler, other = people
    login(client, handler)
    listed = client.get("/api/v1/notices/?unread=true").json()
    assert listed["count"] == 2 and listed["items"][0]["title"] == "新派案件 N1"
    assert client.get("/api/v1/notices/unread-count").json() == {"unread": 2}
    assert client.get(f"/api/v1/notices/?kind={Kind.TASK_WARNING}").json()["count"] == 0
    assert client.get("/api/v1/notices/?kind=bogus").status_code == 400
    first = listed["items"][0]["id"]
    assert client.post(f"/api/v1/notices/{first}/read").json() == {"marked": 1}
    assert client.get("/api/v1/notices/unread-count").json() == {"unread": 1}
    assert client.post("/api/v1/notices/read-all").json() == {"marked": 1}
    login(client, other)
    assert client.post(f"/api/v1/notices/{first}/read").status_code == 404
    assert client.get("/api/v1/notices/").json()["count"] == 0


def test_preferences_refuse_email_without_an_address(client, people):
    unit, hq, handler, other = people
    login(client, other)
    page = client.post(reverse("notices:preferences"), {"email": "on"})
    assert "没有邮箱" in page.content.decode()
    login(client, handler)
    client.post(reverse("notices:preferences"), {"email": "on", "muted": [Kind.TASK_WARNING]})
    pref = Preference.objects.get(user=handler)
    assert pref.email and pref.muted == [Kind.TASK_WARNING]


def test_hq_log_shows_a_stalled_worker_and_others_get_403(client, people):
    unit, hq, handler, other = people
    login(client, handler)
    for name in ("notices:log", "notices:robots", "notices:robot_new"):
        assert client.get(reverse(name)).status_code == 403
    login(client, hq)
    page = client.get(reverse("notices:log"))
    assert page.status_code == 200 and page.context["worker"].stalled
    assert "已停止" in page.content.decode()
    Robot.objects.create(unit=unit, channel="wecom", name="群", webhook="https://qyapi.weixin.qq.com/x")
    notify(Kind.CASE_OVERDUE, [handler], {"number": "N9"}, "/cases/9/", "k9", units=[unit])
    other_unit = UnitFactory(code="D-2")
    assert len(client.get(reverse("notices:log"), {"unit": unit.pk}).context["page"]) == 1
    assert len(client.get(reverse("notices:log"), {"unit": other_unit.pk}).context["page"]) == 0
    assert len(client.get(reverse("notices:log"), {"status": "sent"}).context["page"]) == 0


def test_a_robot_is_saved_only_when_its_test_message_arrives(client, people, receiver):
    unit, hq, handler, other = people
    login(client, hq)
    data = {"unit": unit.pk, "channel": "dingtalk", "name": "城管群", "is_active": "on"}
    receiver.dingtalk_url("tok", "SECright")
    page = client.post(
        reverse("notices:robot_new"), {**data, "webhook": receiver.dingtalk_url("tok"), "secret": "SECwrong"}
    )
    assert "测试消息发送失败" in page.content.decode() and "sign not match" in page.content.decode()
    page = client.post(reverse("notices:robot_new"), {**data, "webhook": "https://evil.example.com/x"})
    assert "oapi.dingtalk.com" in page.content.decode()
    assert not Robot.objects.exists()
    client.post(
        reverse("notices:robot_new"), {**data, "webhook": receiver.dingtalk_url("tok"), "secret": "SECright"}
    )
    robot = Robot.objects.get()
    assert robot.verified_at is not None
    assert "创文平台测试消息" in receiver.messages[0]["body"]["markdown"]["title"]


def test_unit_leader_must_work_in_the_unit(client, people):
    unit, hq, handler, other = people
    login(client, hq)
    picked = client.get(reverse("notices:robots"), {"unit": unit.pk})
    assert picked.url == reverse("notices:unit_settings", args=[unit.pk])
    page = client.post(reverse("notices:unit_settings", args=[unit.pk]), {"leader": hq.pk, "digest": "on"})
    assert page.status_code == 200 and not UnitPreference.objects.exists()
    client.post(reverse("notices:unit_settings", args=[unit.pk]), {"leader": handler.pk, "digest": "on"})
    assert UnitPreference.objects.get(unit=unit).leader == handler
