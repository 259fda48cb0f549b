"""Notice actions: reading the inbox, a person's preferences, and HQ's channel settings.

Each action checks who may (``check_*``) before it changes anything:
- a person reads and sets their own inbox and preferences;
- HQ admins configure units' group robots and notice settings and resend failed deliveries.
A robot is saved only after a test message reached its group (a misconfigured webhook or secret
is refused with the robot's own answer); robot and unit-setting changes are audited.
"""

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from org.audit import Actor, record
from org.errors import ActionRefused
from org.models import Membership, Role, Unit, User
from org.scope import scope_for

from . import channels
from .kinds import Kind
from .models import Delivery, Notice, Preference, Receipt, Robot, UnitPreference

MANAGE_ROLES = (Role.HQ_ADMIN,)
# A unit's leader must see the unit's work (org.scope): a handler or report clerk of the unit.
LEADER_ROLES = (Role.HANDLER, Role.REPORT_CLERK)


def _clean(text: str, limit: int, what: str) -> str:
    text = "".join(ch for ch in (text or "") if ch in "\n\t" or ord(ch) >= 32).strip()
    if len(text) > limit:
        raise ValidationError(f"{what}不能超过 {limit} 个字符")
    return text


def inbox(user: User):
    """The person's inbox, newest first."""
    return Receipt.objects.filter(user=user).select_related("notice").order_by("-notice__created_at", "-pk")


def unread_count(user: User) -> int:
    return Receipt.objects.filter(user=user, read_at__isnull=True).count()


def mark_read(actor: Actor, receipts: Iterable[Receipt] | None = None) -> int:
    """Mark the person's own receipts read (all unread ones when ``receipts`` is None)."""
    if actor.user is None:
        raise PermissionDenied("请先登录")
    qs = Receipt.objects.filter(user=actor.user, read_at__isnull=True)
    if receipts is not None:
        qs = qs.filter(pk__in=[r.pk for r in receipts])
    return qs.update(read_at=timezone.now())


def save_preference(
    actor: Actor,
    *,
    muted: Iterable[str],
    email: bool,
    sms: bool,
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
) -> Preference:
    """The person's own preferences: events kept to the inbox, e-mail, SMS and quiet hours."""
    user = actor.user
    if user is None:
        raise PermissionDenied("请先登录")
    muted = sorted(set(muted))
    unknown = set(muted) - set(Kind.values)
    if unknown:
        raise ValidationError(f"未知的事件：{'、'.join(unknown)}")
    if email and not user.email:
        raise ValidationError("您的账号没有邮箱，无法接收邮件通知")
    if sms and not user.phone:
        raise ValidationError("您的账号没有手机号，无法接收短信通知")
    if (quiet_start is None) != (quiet_end is None):
        raise ValidationError("免打扰时段须同时填写开始和结束时间")
    pref, _ = Preference.objects.update_or_create(
        user=user,
        defaults={
            "muted": muted,
            "email": email,
            "sms": sms,
            "quiet_start": quiet_start,
            "quiet_end": quiet_end,
        },
    )
    return pref


def check_manage(user) -> None:
    scope = scope_for(user)
    if not (user.is_superuser or scope.has_role(*MANAGE_ROLES)):
        raise PermissionDenied("只有创文办管理员可以配置通知渠道")


def save_robot(
    actor: Actor,
    robot: Robot | None,
    *,
    unit: Unit,
    channel: str,
    name: str,
    webhook: str,
    secret: str = "",
    kinds: Iterable[str] = (),
    is_active: bool = True,
) -> Robot:
    """Add or change a unit's group robot; a test message must reach the group first."""
    check_manage(actor.user)
    if channel not in dict(Robot.KINDS):
        raise ValidationError("请选择企业微信或钉钉")
    name = _clean(name, 60, "名称") or "群机器人"
    webhook = _clean(webhook, 500, "Webhook 地址")
    secret = _clean(secret, 200, "加签密钥")
    kinds = sorted(set(kinds))
    if set(kinds) - set(Kind.values):
        raise ValidationError("未知的事件")
    channels.check_webhook(channel, webhook)
    robot = robot or Robot()
    robot.unit, robot.channel, robot.name = unit, channel, name
    robot.webhook, robot.secret, robot.kinds, robot.is_active = webhook, secret, kinds, is_active
    now = timezone.now()
    test = Notice(
        kind=Kind.DAILY_DIGEST,
        title="创文平台测试消息",
        body=f"{unit.short_name or unit.name}的群机器人“{name}”已接入创文指挥平台。",
    )
    try:
        channels.send_to_robot(robot, test, now)
    except channels.SendError as exc:
        raise ValidationError(f"测试消息发送失败，未保存：{exc}") from exc
    robot.verified_at = now
    with transaction.atomic():
        adding = robot.pk is None
        robot.save()
        record(
            actor,
            "notices.robot.add" if adding else "notices.robot.change",
            robot,
            str(robot),
            channel=channel,
        )
    return robot


def delete_robot(actor: Actor, robot: Robot) -> None:
    check_manage(actor.user)
    with transaction.atomic():
        record(actor, "notices.robot.delete", robot, str(robot))
        robot.delete()


def save_unit_preference(
    actor: Actor,
    unit: Unit,
    *,
    leader: User | None,
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
    digest: bool,
) -> UnitPreference:
    """A unit's leader (escalations go to them), its robots' quiet hours and the daily digest."""
    check_manage(actor.user)
    if (
        leader is not None
        and not Membership.objects.filter(user=leader, unit=unit, role__in=LEADER_ROLES).exists()
    ):
        raise ValidationError("单位负责人须为本单位的处置员或网报专员")
    if (quiet_start is None) != (quiet_end is None):
        raise ValidationError("免打扰时段须同时填写开始和结束时间")
    with transaction.atomic():
        pref, _ = UnitPreference.objects.update_or_create(
            unit=unit,
            defaults={"leader": leader, "quiet_start": quiet_start, "quiet_end": quiet_end, "digest": digest},
        )
        record(actor, "notices.unit.change", unit, str(unit), leader=leader.pk if leader else None)
    return pref


def resend(actor: Actor, delivery: Delivery) -> Delivery:
    """HQ sends a failed delivery again (the worker picks it up at its next tick)."""
    check_manage(actor.user)
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status != Delivery.Status.FAILED:
            raise ActionRefused("只有发送失败的记录可以重发")
        delivery.status, delivery.attempts, delivery.next_attempt_at = (
            Delivery.Status.PENDING,
            0,
            timezone.now(),
        )
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        record(actor, "notices.delivery.resend", delivery, str(delivery))
    return delivery
