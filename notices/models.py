"""Notices 通知: the outbox written in the event's transaction, the inbox, the group robots and
preferences, and the worker's bookkeeping (job runs and its heartbeat).

- ``Notice``: one event told once (its ``key`` is the idempotency key: unique).
- ``Receipt``: the notice in one person's inbox (read or not).
- ``Delivery``: the notice on one outside channel (a unit's group robot, a person's e-mail or
  SMS): pending until the worker sends it, retried with back-off, then sent or failed with its
  reason. Addresses are read from the person or robot when sending, never copied here.
- ``Robot``: a unit's WeChat Work 企业微信 or DingTalk 钉钉 group robot.
- ``Preference`` / ``UnitPreference``: what a person or a unit wants told, where, and when not.
- ``JobRun``: one periodic job in one period, claimed by inserting the row (unique), so a job
  runs once per period however many workers run. ``Heartbeat``: the worker's last sign of life.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from org.models import Unit

from .kinds import Kind


class Notice(models.Model):
    """通知: one event worth telling, with its message and the link to act on it."""

    kind = models.CharField("事件", max_length=32, choices=Kind.choices)
    key = models.CharField("幂等键", max_length=200, unique=True)
    title = models.CharField("标题", max_length=120)
    body = models.CharField("内容", max_length=1000)
    link = models.CharField("链接", max_length=300, blank=True)
    urgent = models.BooleanField("紧急", default=False)
    unit = models.ForeignKey(
        Unit, verbose_name="相关单位", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "通知"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Receipt(models.Model):
    """站内信: a notice in one person's inbox."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="receipts")
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "站内通知"
        ordering = ["-notice__created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="receipt_once")]
        indexes = [
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="receipt_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.notice}"


class Channel(models.TextChoices):
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"
    EMAIL = "email", "电子邮件"
    SMS = "sms", "短信"


class Robot(models.Model):
    """群机器人: a unit's WeChat Work or DingTalk group robot (its webhook address)."""

    KINDS = ((Channel.WECOM, Channel.WECOM.label), (Channel.DINGTALK, Channel.DINGTALK.label))

    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.CASCADE, related_name="robots")
    channel = models.CharField("类型", max_length=12, choices=KINDS)
    name = models.CharField("名称", max_length=60)
    webhook = models.CharField("Webhook 地址", max_length=500)
    secret = models.CharField("加签密钥（钉钉）", max_length=200, blank=True)
    kinds = models.JSONField("推送事件", default=list, blank=True, help_text="为空表示全部事件")
    is_active = models.BooleanField("启用", default=True)
    verified_at = models.DateTimeField("测试消息发送成功时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "群机器人"
        ordering = ["unit__code", "id"]

    def __str__(self) -> str:
        return f"{self.unit} · {self.name}"

    def wants(self, kind: str) -> bool:
        return self.is_active and (not self.kinds or kind in self.kinds)


class QuietHours(models.Model):
    quiet_start = models.TimeField("免打扰开始", null=True, blank=True)
    quiet_end = models.TimeField("免打扰结束", null=True, blank=True)

    class Meta:
        abstract = True


class Preference(QuietHours):
    """个人通知设置: which events reach this person outside the inbox, by which channels."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preference"
    )
    muted = models.JSONField("不推送的事件", default=list, blank=True)
    email = models.BooleanField("邮件", default=False)
    sms = models.BooleanField("短信", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "个人通知设置"

    def __str__(self) -> str:
        return str(self.user)


class UnitPreference(QuietHours):
    """单位通知设置: the unit's leader (who overdue cases escalate to) and its robots' quiet hours."""

    unit = models.OneToOneField(Unit, on_delete=models.CASCADE, related_name="notice_preference")
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="单位负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="超期案件升级时通知此人（须为本单位人员）",
    )
    digest = models.BooleanField("每日 8:00 汇总", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "单位通知设置"

    def __str__(self) -> str:
        return str(self.unit)


class Delivery(models.Model):
    """投递: a notice on one outside channel, to one robot or one person."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    key = models.CharField(max_length=240, unique=True)
    channel = models.CharField("渠道", max_length=12, choices=Channel.choices)
    robot = models.ForeignKey(Robot, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送时间", default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    last_error = models.CharField("失败原因", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "投递记录"
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.notice} → {self.get_channel_display()}"


class JobRun(models.Model):
    """定时任务执行: one job in one period (inserted to claim it: the unique pair)."""

    job = models.CharField("任务", max_length=60)
    period = models.CharField("周期", max_length=40)
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    ok = models.BooleanField("成功", null=True)
    detail = models.CharField("结果", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "定时任务执行"
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="jobrun_once")]

    def __str__(self) -> str:
        return f"{self.job} {self.period}"


class Heartbeat(models.Model):
    """后台进程心跳: when the worker's schedule last ticked."""

    name = models.CharField(max_length=40, primary_key=True)
    beat_at = models.DateTimeField("最近心跳")
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "后台进程心跳"

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at}"
