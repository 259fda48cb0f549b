"""Citizen appeals 群众诉求: a citizen's request, which enters the case loop as a ``cases.Case``.

``Appeal`` holds what the case does not: the channel it came by, the tracking code (查询码) the
citizen follows it with, the contact details for the call-back (回访), the citizen's rating
(满意度) and the dispatcher's decision on an unsatisfied rating. ``Open311Client`` is a civic
application allowed to submit through the GeoReport v2 API; ``ServiceAttribute`` adds questions
to a category's Open311 service definition.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models import Case, Category

from .privacy import mask_name, mask_phone

# Unambiguous characters only (no 0/O, 1/I/L), so a code read out on the phone is typed right.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def new_tracking_code() -> str:
    """10 random characters of 31: about 8×10^14 codes, so guessing one is hopeless."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


# The category of "不确定" (not sure) appeals, created by migration 0002; dispatchers re-classify.
UNSURE_CATEGORY = {"kind": Category.Kind.EVENT, "code": "9900"}
# Open311 service codes: the standard numbers components and events separately, so the kind's
# pinyin initials go in front (部件 BJ0101 上水井盖, 事件 SJ0102 暴露垃圾).
SERVICE_PREFIXES = {Category.Kind.COMPONENT: "BJ", Category.Kind.EVENT: "SJ"}


def unsure_category() -> Category:
    return Category.objects.get(**UNSURE_CATEGORY)


def service_code(category: Category) -> str:
    return SERVICE_PREFIXES[Category.Kind(category.kind)] + category.code


def services() -> models.QuerySet[Category]:
    """The categories offered to citizens and Open311 clients: active ones, without "unsure"."""
    return Category.objects.filter(active=True).exclude(**UNSURE_CATEGORY).order_by("kind", "code")


def category_for_service(code: str) -> Category | None:
    """The active category of an Open311 service code, or None."""
    for kind, prefix in SERVICE_PREFIXES.items():
        if code.upper().startswith(prefix):
            return services().filter(kind=kind, code=code[len(prefix) :]).first()
    return None


def clean_tracking_code(value: str) -> str:
    """What the citizen typed, upper-cased, without spaces and dashes."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


class Appeal(models.Model):
    """群众诉求: one citizen's appeal and its case."""

    class Channel(models.TextChoices):
        WEB = "web", "网上（手机/网页）"
        HOTLINE = "hotline", "热线电话"
        MAIL = "mail", "来信/信箱"
        VISIT = "visit", "来访"
        OPEN311 = "open311", "Open311 接口"
        OTHER = "other", "其他"

    # Channels a clerk enters by hand; these appeals need a recorded call-back before closing.
    CLERK_CHANNELS = (Channel.HOTLINE, Channel.MAIL, Channel.VISIT, Channel.OTHER)

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", "满意"
        BASIC = "basic", "基本满意"
        UNSATISFIED = "unsatisfied", "不满意"

    class Review(models.TextChoices):
        """The dispatcher's decision on an unsatisfied rating."""

        NONE = "", "—"
        PENDING = "pending", "待研判"
        REOPENED = "reopened", "已重新办理"
        UPHELD = "upheld", "维持结案"

    case = models.OneToOneField(Case, verbose_name="案件", on_delete=models.PROTECT, related_name="appeal")
    code = models.CharField("查询码", max_length=CODE_LENGTH, unique=True, default=new_tracking_code)
    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField("受理时间", default=timezone.now, db_index=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    name = models.CharField("姓名", max_length=50, blank=True)
    category_unsure = models.BooleanField("群众不确定类别", default=False)
    # No point was given (address text only): the case carries the district centre instead.
    location_approximate = models.BooleanField("位置为估计", default=False)
    media_url = models.URLField("媒体链接", max_length=500, blank=True)
    attributes = models.JSONField("补充信息", default=dict, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client = models.ForeignKey(
        "Open311Client",
        verbose_name="Open311 客户端",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
    )

    rating = models.CharField("满意度", max_length=12, choices=Rating.choices, blank=True)
    rating_comment = models.CharField("评价意见", max_length=500, blank=True)
    rated_at = models.DateTimeField("评价时间", null=True, blank=True)

    review = models.CharField("不满意研判", max_length=10, choices=Review.choices, blank=True, default="")
    review_note = models.CharField("研判说明", max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="研判人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("研判时间", null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField("重新办理次数", default=0)
    # Earlier rounds of a reopened appeal: [{case, rating, comment, rated_at, reopened_at, note}],
    # and their cases, so that their numbers keep answering (Open311 clients stored them).
    history = models.JSONField("办理历史", default=list, blank=True)
    earlier_cases = models.ManyToManyField(
        Case, verbose_name="此前办理的案件", blank=True, related_name="reopened_appeals"
    )

    follow_up_note = models.TextField("回访记录", blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="回访人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    followed_up_at = models.DateTimeField("回访时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "群众诉求"
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["channel", "received_at"]), models.Index(fields=["review"])]

    def __str__(self) -> str:
        return f"{self.code} {self.case.number}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def needs_follow_up(self) -> bool:
        """A clerk-entered appeal is closed only after the reply to the citizen is recorded (回访)."""
        return self.channel in self.CLERK_CHANNELS and self.followed_up_at is None

    @property
    def effective_case(self) -> Case:
        """The case doing the work: a case merged into another (合并) is handled as that one."""
        if self.case.status == Case.Status.MERGED and self.case.merged_into_id is not None:
            return self.case.merged_into  # type: ignore[return-value]
        return self.case

    @property
    def may_be_rated(self) -> bool:
        return self.effective_case.status == Case.Status.CLOSED and not self.rating


class Open311Client(models.Model):
    """Open311 客户端: a civic application that submits service requests with an API key issued by HQ.

    Only a hash of the key is stored; the key itself is shown once, when it is issued.
    """

    name = models.CharField("名称", max_length=100, unique=True)
    contact = models.CharField("联系人/联系方式", max_length=200, blank=True)
    prefix = models.CharField("密钥前缀", max_length=8, db_index=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "Open311 客户端"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def set_new_key(self) -> str:
        """Give the client a fresh key (not saved yet) and return it: the only time it is readable."""
        key = secrets.token_urlsafe(32)
        self.prefix, self.key_hash = key[:8], self.hash_key(key)
        return key

    @staticmethod
    def cache_key(key_hash: str) -> str:
        """Where Open311 keeps the client of a key hash in the shared cache (for a minute)."""
        return f"appeals.open311.client.{key_hash}"

    @classmethod
    def authenticate(cls, key: str) -> "Open311Client | None":
        if not key:
            return None
        client = cls.objects.filter(key_hash=cls.hash_key(key), revoked_at__isnull=True).first()
        if client is not None:
            now = timezone.now()
            if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 300:
                cls.objects.filter(pk=client.pk).update(last_used_at=now)
        return client

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ServiceAttribute(models.Model):
    """Open311 服务属性: an extra question a category's service definition asks (GeoReport v2 attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", "单行文字"
        NUMBER = "number", "数字"
        DATETIME = "datetime", "日期时间"
        TEXT = "text", "多行文字"
        SINGLE = "singlevaluelist", "单选"
        MULTI = "multivaluelist", "多选"

    LIST_TYPES = (Datatype.SINGLE, Datatype.MULTI)

    category = models.ForeignKey(
        Category, verbose_name="类别", on_delete=models.CASCADE, related_name="open311_attributes"
    )
    code = models.SlugField("编码", max_length=40)
    description = models.CharField("问题", max_length=200)
    datatype = models.CharField("类型", max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    datatype_description = models.CharField("填写说明", max_length=200, blank=True)
    required = models.BooleanField("必填", default=False)
    # False: shown to the citizen as information only, no input.
    variable = models.BooleanField("需要填写", default=True)
    order = models.PositiveSmallIntegerField("顺序", default=1)
    values = models.JSONField(
        "选项", default=list, blank=True, help_text='单选/多选的选项：[{"key": "1", "name": "是"}, ...]'
    )

    class Meta:
        verbose_name = verbose_name_plural = "Open311 服务属性"
        ordering = ["category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="service_attribute_code"),
            models.UniqueConstraint(fields=["category", "order"], name="service_attribute_order"),
        ]

    def __str__(self) -> str:
        return f"{self.category.name} · {self.description}"

    def value_keys(self) -> list[str]:
        return [str(v.get("key")) for v in self.values or [] if isinstance(v, dict)]


class RateCounter(models.Model):
    """One rate-limit counter (防刷计数): attempts under one hashed key (action, who, value) in the
    fixed window starting at ``window_start`` (epoch seconds). Written by ``appeals.limits`` with one
    atomic UPSERT; windows that ended two days ago are pruned by the ``rate_counters`` job."""

    name = models.CharField(max_length=64)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)
    # When the window ends (epoch seconds): what the pruning job looks at.
    expires = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "限流计数"
        constraints = [models.UniqueConstraint(fields=["name", "window_start"], name="rate_counter_window")]

    def __str__(self) -> str:
        return f"{self.name[:12]}… @{self.window_start}: {self.count}"
