"""Organisation and responsibility (组织与责任): regions, units, people, contracting, grids."""

import datetime as dt
import hashlib
import logging
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, Subquery, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from .compiled import columns, compiled, instance, rows_together

logger = logging.getLogger(__name__)


class Region(models.Model):
    """区域: the area tree district 区 → street 街道 / township 乡镇 → community 社区 / village 村 → group 居民小组."""

    class Level(models.TextChoices):
        DISTRICT = "district", "区"
        STREET = "street", "街道"
        TOWNSHIP = "township", "乡镇"
        COMMUNITY = "community", "社区"
        VILLAGE = "village", "村"
        GROUP = "group", "居民小组"

    # Which level may hang under which: the shape of the tree, checked on every write and import.
    PARENT_LEVELS: dict[str, tuple[str, ...]] = {
        Level.DISTRICT: (),
        Level.STREET: (Level.DISTRICT,),
        Level.TOWNSHIP: (Level.DISTRICT,),
        Level.COMMUNITY: (Level.STREET, Level.TOWNSHIP),
        Level.VILLAGE: (Level.TOWNSHIP, Level.STREET),
        Level.GROUP: (Level.COMMUNITY, Level.VILLAGE),
    }

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Materialised path of codes ("/511902/511902001/"), so a subtree is one indexed prefix query.
    path = models.CharField(max_length=400, db_index=True, editable=False)
    lat = models.FloatField("中心纬度", null=True, blank=True)
    lng = models.FloatField("中心经度", null=True, blank=True)
    # GeoJSON-style outer ring [[lng, lat], ...] in WGS-84, used to derive the region of a point.
    boundary = models.JSONField("边界", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "区域"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        """Saves the region and, when its code or parent changed, rewrites its subtree's paths."""
        with transaction.atomic():
            old_path = (
                Region.objects.filter(pk=self.pk).values_list("path", flat=True).first() if self.pk else None
            )
            self.path = (self.parent.path if self.parent else "/") + self.code + "/"
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                Region.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(
                        Value(self.path), Substr("path", len(old_path) + 1), output_field=models.CharField()
                    )
                )

    def clean(self) -> None:
        if "/" in self.code:
            raise ValidationError({"code": "编码不能包含“/”"})
        if self.parent is not None and self.pk is not None and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": "不能把区域移到它自己或它的下级之下"})
        allowed = self.PARENT_LEVELS.get(self.level, ())
        if self.parent is None and allowed:
            raise ValidationError({"parent": f"{self.get_level_display()}必须有上级区域"})
        if self.parent is not None and self.parent.level not in allowed:
            raise ValidationError(
                {"parent": f"{self.get_level_display()}不能隶属于{self.parent.get_level_display()}"}
            )
        if self.pk is not None:
            for child in self.children.all():
                if self.level not in self.PARENT_LEVELS.get(child.level, ()):
                    raise ValidationError(
                        {
                            "level": f"下级区域「{child.name}」（{child.get_level_display()}）不能隶属于{self.get_level_display()}"
                        }
                    )

    def subtree(self) -> models.QuerySet["Region"]:
        return Region.objects.filter(path__startswith=self.path)

    def ancestors(self) -> list["Region"]:
        codes = [c for c in self.path.strip("/").split("/")[:-1]]
        by_code = {r.code: r for r in Region.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]


class Unit(models.Model):
    """单位: an organisation that owns work (区级部门, 街道办事处, 社区居委会, 企业 ...)."""

    class Kind(models.TextChoices):
        HQ = "hq", "创文指挥部"
        DEPARTMENT = "department", "区级部门"
        STREET_OFFICE = "street_office", "街道办事处"
        TOWNSHIP_GOVERNMENT = "township_government", "乡镇人民政府"
        COMMUNITY_COMMITTEE = "community_committee", "社区居委会"
        VILLAGE_COMMITTEE = "village_committee", "村委会"
        ENTERPRISE = "enterprise", "企业"
        OTHER = "other", "其他"

    # Units that answer for the territory of their region (a street answers for its communities).
    TERRITORIAL_KINDS = (
        Kind.STREET_OFFICE,
        Kind.TOWNSHIP_GOVERNMENT,
        Kind.COMMUNITY_COMMITTEE,
        Kind.VILLAGE_COMMITTEE,
    )

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    kind = models.CharField("类型", max_length=32, choices=Kind.choices)
    region = models.ForeignKey(
        Region, verbose_name="所属区域", on_delete=models.PROTECT, related_name="units"
    )
    phone = models.CharField("联系电话", max_length=32, blank=True)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "单位"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_territorial(self) -> bool:
        return self.kind in self.TERRITORIAL_KINDS


class User(AbstractUser):
    """人员: a person who signs in. Citizens do not need accounts."""

    display_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("手机号", max_length=20, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "人员"

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    """角色: what a person does in a unit."""

    HQ_ADMIN = "hq_admin", "创文办管理员"
    DISPATCHER = "dispatcher", "受理派遣员"
    HANDLER = "handler", "责任单位处置员"
    COLLECTOR = "collector", "信息采集员/网格员"
    STREET_CHIEF = "street_chief", "街巷长"
    INSPECTOR = "inspector", "督查员"
    REPORT_CLERK = "report_clerk", "网报专员"
    VOLUNTEER = "volunteer", "志愿者"
    LEADER = "leader", "包保领导"


class Membership(models.Model):
    """任职: one role a person holds in one unit. A person may hold several roles in several units."""

    user = models.ForeignKey(User, verbose_name="人员", on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    title = models.CharField("职务", max_length=50, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "任职"
        constraints = [models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class SiteType(models.Model):
    """点位类型: what kind of place a site is (农贸市场, 学校周边, 背街小巷 ...). HQ adds types in the
    admin; the built-in ones (``Site.Kind``) are created by the migration."""

    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=40)
    position = models.PositiveSmallIntegerField("顺序", default=0)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "点位类型"
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def names(cls) -> dict[str, str]:
        """Every type's name by code, for lists that show many sites."""
        return dict(cls.objects.values_list("code", "name"))


class Site(models.Model):
    """点位: a place that is inspected (market, school, compound, station ...).

    ``kind`` holds the code of a ``SiteType`` (checked by ``clean()``): the column and the
    built-in codes of ``Site.Kind`` stay as they were, and HQ adds types without a migration."""

    class Kind(models.TextChoices):
        """The built-in site types (codes of ``SiteType`` rows seeded by the migration)."""

        MARKET = "market", "农贸市场"
        SCHOOL = "school", "学校周边"
        BACK_STREET = "back_street", "背街小巷"
        COMPOUND = "compound", "老旧小区"
        STATION = "station", "车站"
        SQUARE = "square", "公园广场"
        HOSPITAL = "hospital", "医院"
        WINDOW = "window", "窗口单位"
        ROAD = "road", "主次干道"
        CONSTRUCTION = "construction", "建筑工地"
        OTHER = "other", "其他"

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=20, db_index=True)
    region = models.ForeignKey(
        Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="sites"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "点位"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not SiteType.objects.filter(code=self.kind).exists():
            raise ValidationError({"kind": "点位类型不存在"})

    @property
    def kind_name(self) -> str:
        """The name of the site's type (one query; lists use ``SiteType.names()``)."""
        return SiteType.objects.filter(code=self.kind).values_list("name", flat=True).first() or self.kind


class ContractQuerySet(models.QuerySet["Contract"]):
    def active(self, on=None):
        day = on or timezone.localdate()
        return self.filter(Q(start__lte=day), Q(end__isnull=True) | Q(end__gte=day))


class Contract(models.Model):
    """包保/挂联: a leader or a unit answers for a region or a site over a period."""

    leader = models.ForeignKey(
        User,
        verbose_name="包保领导",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contracts",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name="包保单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contracts",
    )
    region = models.ForeignKey(
        Region,
        verbose_name="包保区域",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contracts",
    )
    site = models.ForeignKey(
        Site,
        verbose_name="包保点位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contracts",
    )
    start = models.DateField("开始日期")
    end = models.DateField("结束日期", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "包保关系"
        constraints = [
            models.CheckConstraint(
                condition=Q(leader__isnull=False, unit__isnull=True)
                | Q(leader__isnull=True, unit__isnull=False),
                name="contract_one_holder",
            ),
            models.CheckConstraint(
                condition=Q(region__isnull=False, site__isnull=True)
                | Q(region__isnull=True, site__isnull=False),
                name="contract_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.leader or self.unit} → {self.region or self.site}"


class Grid(models.Model):
    """网格: the smallest patrol area of a community, with its grid workers (网格员)."""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    community = models.ForeignKey(
        Region, verbose_name="所属社区/村", on_delete=models.PROTECT, related_name="grids"
    )
    workers = models.ManyToManyField(User, verbose_name="网格员", blank=True, related_name="grids")
    boundary = models.JSONField("边界", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "网格"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class StreetSegment(models.Model):
    """街巷: a street or lane with its street chief (街巷长), patrolled under 六必到、六必报."""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    region = models.ForeignKey(
        Region, verbose_name="所属区域", on_delete=models.PROTECT, related_name="segments"
    )
    chief = models.ForeignKey(
        User, verbose_name="街巷长", null=True, blank=True, on_delete=models.SET_NULL, related_name="segments"
    )

    class Meta:
        verbose_name = verbose_name_plural = "街巷"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """API 令牌: a device's key for the JSON API. Only a hash is stored; the key is shown once.

    People issue and revoke tokens through ``org.services`` (checked and audited); ``issue`` below
    is only the mechanics of making a key.
    """

    # A device token that nobody renews stops working after this many days.
    DEFAULT_LIFETIME_DAYS = 180

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("名称", max_length=100)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField("到期时间", null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str, expires_at=None) -> tuple["ApiToken", str]:
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=key[:8], key_hash=cls.hash_key(key), expires_at=expires_at
        )
        return token, key

    @classmethod
    def authenticate(cls, key: str) -> User | None:
        """The active person holding a valid (not revoked, not expired) token with this key.

        Asked by every API request, so one query compiled once per process (``org.compiled``):
        the token's row and its owner's, the owner built from the row as the ORM would."""
        now = timezone.now()
        key_hash = cls.hash_key(key)
        lookup = compiled(("org.api_token",), _valid_token, _TOKEN_MARKS)
        memberships = compiled(("org.api_token.memberships",), _token_memberships, _TOKEN_MARKS[:1])
        # The owner's memberships come with the token (one round trip on PostgreSQL): nearly
        # every API request then asks for the person's scope (``org.scope``), which reads them.
        rows, roles = rows_together([(lookup, [key_hash, now]), (memberships, [key_hash])])
        if not rows:
            # Unknown, revoked or expired, or its owner deactivated (the key itself is never logged).
            logger.warning("API token refused: no valid token with hash %s…", key_hash[:12])
            return None
        token = rows[0]
        if token["last_used_at"] is None or (now - token["last_used_at"]).total_seconds() > 300:
            cls.objects.filter(pk=token["pk"]).update(last_used_at=now)
        user = instance(User, lookup.db, token, "user__")
        user._chuangwen_memberships = roles  # type: ignore[attr-defined]
        return user


# Values no request sends: a key hash that is not hexadecimal and a moment long past.
_TOKEN_MARKS = ["~token-hash-marker~", dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)]


def _valid_token(marks: list) -> models.QuerySet:
    key_hash, now = marks
    return (
        ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values("pk", "last_used_at", *columns(User, "user__"))[:1]
    )


# What the scope needs of each of a person's memberships (``org.scope.compute_scope``).
MEMBERSHIP_VALUES = ("role", "unit_id", "unit__kind", "unit__region__path")


def _token_memberships(marks: list) -> models.QuerySet:
    # The owner as a scalar subquery (run once), then their memberships by the user index, a plan
    # with little room to go wrong. The join through the user and token tables it replaces was
    # seen running for minutes in the tiny bench test on PostgreSQL (twice in seven runs; the
    # plan it ran was never captured, so the cause is not confirmed: docs/performance.md).
    owner = ApiToken.objects.filter(key_hash=marks[0]).values("user_id")[:1]
    return Membership.objects.filter(user_id=Subquery(owner)).values(*MEMBERSHIP_VALUES)


class AuditLog(models.Model):
    """审计日志: every state change and every read of a citizen's contact details: who, when, from where."""

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField("来源 IP", null=True, blank=True)
    via = models.CharField("渠道", max_length=16, default="web")
    action = models.CharField("动作", max_length=64)
    object_type = models.CharField("对象类型", max_length=64)
    object_id = models.CharField("对象", max_length=64, blank=True)
    summary = models.CharField("摘要", max_length=300, blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "审计日志"
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}#{self.object_id}"


class ImportJob(models.Model):
    """后台导入任务: an uploaded workbook that the worker checks (a dry run, shown as a preview to
    confirm) or imports, with its progress and outcome (``org.imports``)."""

    class State(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "处理中"
        CHECKED = "checked", "待确认导入"
        DONE = "done", "已导入"
        FAILED = "failed", "有错误，未导入"
        EXPIRED = "expired", "已过期"

    kind = models.CharField("类型", max_length=32)
    dry_run = models.BooleanField("仅预览", default=False)
    file = models.CharField("文件", max_length=200, blank=True)  # the storage name, until the job ends
    file_name = models.CharField("文件名", max_length=200, blank=True)
    user = models.ForeignKey(
        User, verbose_name="上传人", on_delete=models.CASCADE, related_name="import_jobs"
    )
    ip = models.GenericIPAddressField("来源 IP", null=True, blank=True)
    via = models.CharField("渠道", max_length=16, default="web")
    checked_by = models.OneToOneField(
        "self",
        verbose_name="预览任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmed_by",
    )
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.QUEUED)
    stage = models.CharField("阶段", max_length=64, blank=True)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    summary = models.CharField("结果", max_length=500, blank=True)
    errors = models.JSONField("错误", default=list, blank=True)
    warnings = models.JSONField("提示", default=list, blank=True)
    preview = models.JSONField("预览", default=list, blank=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导入任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} {self.get_state_display()}"

    @property
    def is_running(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)
