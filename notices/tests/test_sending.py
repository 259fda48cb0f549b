"""The worker's sending, to a fake robot server speaking the WeChat Work and DingTalk formats:
delivery, DingTalk's signature, retries with back-off, failure with its reason, and two workers
sending at once (each message posted once)."""

import datetime as dt
import urllib.parse

import pytest
from django.core import mail

from notices import sms
from notices.channels import dingtalk_sign
from notices.kinds import Kind
from notices.models import Delivery, Preference, Robot
from notices.outbox import notify
from notices.sending import send_due
from notices.tests.conftest import run_concurrently
from org.models import Role
from org.tests.factories import UnitFactory, member

CONTEXT = {
    "number": "202600001",
    "category": "暴露垃圾",
    "place": "一社区",
    "unit": "城管局",
    "deadline": "03月03日",
}


@pytest.fixture
def unit(db):
    return UnitFactory(code="D-1", short_name="城管局")


def tell(unit, key="k1", people=(), number="202600001"):
    context = {**CONTEXT, "number": number}
    return notify(Kind.CASE_DISPATCHED, list(people), context, "/cases/1/", key, units=[unit])


@pytest.mark.django_db
def test_wecom_and_signed_dingtalk_robots_receive_their_formats(unit, receiver, clock, settings):
    settings.NOTICES_SITE_URL = "https://cw.example.gov.cn"
    Robot.objects.create(unit=unit, channel="wecom", name="企微", webhook=receiver.wecom_url("key-1"))
    Robot.objects.create(
        unit=unit,
        channel="dingtalk",
        name="钉钉",
        webhook=receiver.dingtalk_url("tok", "SECabc"),
        secret="SECabc",
    )
    tell(unit)
    result = send_due(clock.state.now)
    assert (result.sent, result.retried, result.failed) == (2, 0, 0)
    wecom, ding = sorted(receiver.messages, key=lambda m: m["path"])
    assert wecom["query"] == {"key": "key-1"}
    assert wecom["body"]["msgtype"] == "markdown"
    assert "新派案件 202600001" in wecom["body"]["markdown"]["content"]
    assert "https://cw.example.gov.cn/cases/1/" in wecom["body"]["markdown"]["content"]
    stamp = int(clock.state.now.timestamp() * 1000)
    assert ding["query"]["timestamp"] == str(stamp)
    assert ding["query"]["sign"] == urllib.parse.unquote_plus(dingtalk_sign("SECabc", stamp))
    assert ding["body"]["markdown"]["title"] == "新派案件 202600001"
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_wrong_dingtalk_secret_is_retried_then_failed_with_the_robots_answer(
    unit, receiver, clock, settings
):
    settings.NOTICES_MAX_ATTEMPTS = 3
    settings.NOTICES_RETRY_SECONDS = 60
    receiver.dingtalk_url("tok", "SECright")
    Robot.objects.create(
        unit=unit, channel="dingtalk", name="钉钉", webhook=receiver.dingtalk_url("tok"), secret="SECwrong"
    )
    tell(unit)
    start = clock.state.now
    assert send_due(start).retried == 1
    delivery = Delivery.objects.get()
    assert delivery.next_attempt_at == start + dt.timedelta(seconds=60)
    assert "310000" in delivery.last_error
    assert send_due(start + dt.timedelta(seconds=59)).retried == 0  # not due yet
    assert send_due(start + dt.timedelta(seconds=60)).retried == 1
    assert Delivery.objects.get().next_attempt_at == start + dt.timedelta(seconds=180)  # 60 + 120
    assert send_due(start + dt.timedelta(seconds=180)).failed == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "sign not match" in delivery.last_error
    assert receiver.messages == []


@pytest.mark.django_db
def test_errors_and_timeouts_are_retried_and_the_message_goes_once_it_can(unit, receiver, clock):
    Robot.objects.create(unit=unit, channel="wecom", name="企微", webhook=receiver.wecom_url())
    tell(unit)
    receiver.script = ["500", "errcode", "hang"]
    now = clock.state.now
    reasons = []
    for _ in range(3):
        assert send_due(now).retried == 1
        delivery = Delivery.objects.get()
        reasons.append(delivery.last_error)
        now = delivery.next_attempt_at
    assert reasons[0] == "HTTP 500"
    assert "93000" in reasons[1]
    assert reasons[2] == "请求超时"
    assert send_due(now).sent == 1
    assert len(receiver.messages) == 1
    assert Delivery.objects.get().attempts == 4


@pytest.mark.django_db
def test_a_robot_outside_the_allowed_hosts_is_never_called(unit, clock, settings):
    Robot.objects.create(unit=unit, channel="wecom", name="企微", webhook="https://evil.example.com/hook")
    tell(unit)
    settings.NOTICES_MAX_ATTEMPTS = 1
    assert send_due(clock.state.now).failed == 1
    assert "qyapi.weixin.qq.com" in Delivery.objects.get().last_error


@pytest.mark.django_db
def test_email_and_sms_go_through_their_backends(unit, clock, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    person = member(unit, Role.HANDLER, email="h@example.cn", phone="13800000001")
    Preference.objects.create(user=person, email=True, sms=True)
    tell(unit, people=[person])
    assert send_due(clock.state.now).sent == 2
    assert mail.outbox[0].to == ["h@example.cn"] and "新派案件 202600001" in mail.outbox[0].subject
    assert sms.outbox == [("13800000001", "【创文】新派案件 202600001")]


@pytest.mark.django_db
def test_a_delivery_left_sending_by_a_dead_worker_fails_instead_of_going_twice(unit, receiver, clock):
    Robot.objects.create(unit=unit, channel="wecom", name="企微", webhook=receiver.wecom_url())
    tell(unit)
    Delivery.objects.update(status="sending", claimed_at=clock.state.now)
    assert send_due(clock.state.now + dt.timedelta(minutes=5)).failed == 0
    assert send_due(clock.state.now + dt.timedelta(minutes=11)).failed == 1
    assert Delivery.objects.get().status == "failed" and receiver.messages == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_sending_at_once_post_each_message_once(receiver, clock):
    unit = UnitFactory(code="D-9")
    Robot.objects.create(unit=unit, channel="wecom", name="企微", webhook=receiver.wecom_url())
    for i in range(12):
        tell(unit, key=f"k{i}", number=f"2026{i:05d}")
    results = run_concurrently(lambda: send_due(clock.state.now))
    assert sum(r.sent for r in results) == 12
    assert len(receiver.messages) == 12
    assert len({m["body"]["markdown"]["content"] for m in receiver.messages}) == 12
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
