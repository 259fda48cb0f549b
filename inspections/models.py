"""Inspections 督查: 晨查 (morning inspection), 暗访 (unannounced visit), 督查 (supervision) and
复查 (re-inspection) of sites 点位 against checklists 测评表 built from the index system.

Tables: the checklist of a site type under an index system (``Checklist``) and its lines
(``CheckItem``, each pointing to a 实地考察 ``Criterion``); the planned round (``Round``) with its
sites (``RoundSite``); one inspector's submission for one site (``Inspection``) with a result per
line (``ItemResult``); the failed lines as findings 问题 on the rectification list 整改清单
(``Finding``, with photos and the case it became); and the timeline (``InspectionEvent``).
Every state change goes through ``inspections.services``; scores come from ``inspections.scoring``.
"""

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cases.models import Case, Category
from indicators.models import Criterion, IndexSystem
from org.models import Role, Site, Unit, User
from org.scope import scope_for


class Checklist(models.Model):
    """测评表: the checklist of one site type (``Site.kind``) under one index system edition, so
    checklists are versioned with the index system."""

    system = models.ForeignKey(
        IndexSystem, verbose_name="测评体系", on_delete=models.PROTECT, related_name="checklists"
    )
    site_kind = models.CharField("点位类型", max_length=20)
    name = models.CharField("名称", max_length=100)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "测评表"
        ordering = ["system", "site_kind"]
        constraints = [models.UniqueConstraint(fields=["system", "site_kind"], name="checklist_one_per_kind")]

    def __str__(self) -> str:
        return self.name


class CheckItem(models.Model):
    """检查项: one line of a checklist: the 实地考察 criterion it checks, its points and how a
    failure is deducted (扣分规则)."""

    class Rule(models.TextChoices):
        FIXED = "fixed", "发现问题扣固定分"
        PER_OCCURRENCE = "per_occurrence", "每处扣分（封顶）"
        FAIL_ALL = "fail_all", "不合格扣全部分值"

    checklist = models.ForeignKey(
        Checklist, verbose_name="测评表", on_delete=models.CASCADE, related_name="items"
    )
    criterion = models.ForeignKey(
        Criterion, verbose_name="测评标准", on_delete=models.PROTECT, related_name="check_items"
    )
    code = models.CharField("编码", max_length=32)
    text = models.CharField("检查内容", max_length=300)
    points = models.DecimalField("分值", max_digits=6, decimal_places=2)
    rule = models.CharField("扣分规则", max_length=16, choices=Rule.choices, default=Rule.PER_OCCURRENCE)
    unit_deduction = models.DecimalField("每处/固定扣分", max_digits=6, decimal_places=2)
    cap = models.DecimalField(
        "扣分上限", max_digits=6, decimal_places=2, null=True, blank=True, help_text="空：以分值为上限"
    )
    photo_required = models.BooleanField("问题须附照片", default=True)
    category = models.ForeignKey(
        Category,
        verbose_name="转案件类别",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    position = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "检查项"
        ordering = ["checklist", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["checklist", "code"], name="checkitem_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.text[:30]}"

    @property
    def max_deduction(self):
        """The most one failure of this line may take off: its points, or the lower cap."""
        if self.rule == self.Rule.PER_OCCURRENCE and self.cap is not None:
            return min(self.cap, self.points)
        return self.points


class RoundQuerySet(models.QuerySet["Round"]):
    def visible_to(self, user) -> "RoundQuerySet":
        """The rounds ``user`` may see. District-wide roles (HQ, dispatchers, inspectors) see all,
        everyone sees the rounds they inspect; others see the rounds with a site in their scope,
        but an 暗访 round only once HQ published it (inspected units and their leaders must not
        learn of an unannounced visit before)."""
        scope = scope_for(user)
        if scope.everything:
            return self
        assigned = Q(inspectors=user) if user.is_authenticated else Q(pk__in=[])
        in_scope = RoundSite.objects.filter(round=OuterRef("pk"), site__in=scope_sites(user))
        published = ~Q(kind=Round.Kind.UNANNOUNCED) | Q(published_at__isnull=False)
        visible = self.filter(assigned | (published & Q(Exists(in_scope))))
        return self.filter(pk__in=visible.values("pk"))  # type: ignore[return-value]


def scope_sites(user) -> models.QuerySet[Site]:
    """The sites in ``user``'s scope: in their regions, contracted by them or their units."""
    return scope_for(user).filter(Site.objects.all(), unit=None, region="region", site="pk")


class Round(models.Model):
    """督查轮次: one planned round of inspections: kind, period, inspectors and sites."""

    class Kind(models.TextChoices):
        MORNING = "morning", "晨查"
        UNANNOUNCED = "unannounced", "暗访"
        SUPERVISION = "supervision", "督查"
        REINSPECTION = "reinspection", "复查"

    class Status(models.TextChoices):
        PLANNED = "planned", "进行中"
        CLOSED = "closed", "已结束"

    title = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    system = models.ForeignKey(
        IndexSystem, verbose_name="测评体系", on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PLANNED)
    inspectors = models.ManyToManyField(User, verbose_name="督查人员", related_name="inspection_rounds")
    # The random draw (national method): seed and parameters, so the draw can be repeated.
    seed = models.BigIntegerField("随机种子", null=True, blank=True)
    draw = models.JSONField("抽取参数", null=True, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name="计划人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("计划时间", default=timezone.now)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    objects = RoundQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "督查轮次"
        ordering = ["-starts_on", "-pk"]
        indexes = [models.Index(fields=["kind", "starts_on"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_hidden(self) -> bool:
        """An 暗访 round not yet published: invisible to the inspected."""
        return self.kind == self.Kind.UNANNOUNCED and self.published_at is None


class RoundSite(models.Model):
    """轮次点位: a site to inspect in a round (chosen by hand or drawn at random)."""

    round = models.ForeignKey(
        Round, verbose_name="轮次", on_delete=models.CASCADE, related_name="round_sites"
    )
    site = models.ForeignKey(Site, verbose_name="点位", on_delete=models.PROTECT, related_name="+")
    drawn = models.BooleanField("随机抽取", default=False)
    position = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "轮次点位"
        ordering = ["round", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["round", "site"], name="roundsite_unique")]

    def __str__(self) -> str:
        return f"{self.round} · {self.site}"


class InspectionQuerySet(models.QuerySet["Inspection"]):
    def visible_to(self, user) -> "InspectionQuerySet":
        """The inspections of the rounds ``user`` sees: all of them for district-wide roles and the
        round's inspectors; others only those of sites in their scope (or contracted to them)."""
        scope = scope_for(user)
        if scope.everything:
            return self
        rounds = Round.objects.visible_to(user)
        own_rounds = Q(round__inspectors=user) if user.is_authenticated else Q(pk__in=[])
        mine = Q(site__in=scope_sites(user)) | Q(responsible_unit__in=scope.unit_ids)
        if user.is_authenticated:
            mine |= Q(responsible_leader=user)
        hidden = Q(round__kind=Round.Kind.UNANNOUNCED, round__published_at__isnull=True)
        ids = self.filter(round__in=rounds).filter(own_rounds | (mine & ~hidden)).values("pk")
        return self.filter(pk__in=ids)  # type: ignore[return-value]


class Inspection(models.Model):
    """检查记录: one inspector's submission for one site in one round: where they checked in,
    from which device, the result of every line, and the score (``inspections.scoring``)."""

    uid = models.UUIDField("提交编号", unique=True, help_text="客户端生成，重复提交只记一次")
    round = models.ForeignKey(
        Round, verbose_name="轮次", on_delete=models.PROTECT, related_name="inspections"
    )
    site = models.ForeignKey(Site, verbose_name="点位", on_delete=models.PROTECT, related_name="inspections")
    checklist = models.ForeignKey(
        Checklist, verbose_name="测评表", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    inspector = models.ForeignKey(User, verbose_name="督查人员", on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    lat = models.DecimalField("签到纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("签到经度", max_digits=9, decimal_places=6, null=True, blank=True)
    distance_m = models.FloatField("距点位（米）", null=True, blank=True)
    far_from_site = models.BooleanField("超出签到范围", default=False)
    device = models.CharField("设备", max_length=200, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    full_points = models.DecimalField("应得分", max_digits=7, decimal_places=2, default=0)
    deductions = models.DecimalField("扣分", max_digits=7, decimal_places=2, default=0)
    score = models.DecimalField("得分", max_digits=7, decimal_places=2, default=0)
    # Who answered for the site on that day (包保), kept so rollups stay as they were.
    responsible_unit = models.ForeignKey(
        Unit, verbose_name="包保单位", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responsible_leader = models.ForeignKey(
        User, verbose_name="包保领导", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = InspectionQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "检查记录"
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["round", "site"], name="inspection_one_per_round_site")
        ]
        indexes = [models.Index(fields=["submitted_at"])]

    def __str__(self) -> str:
        return f"{self.round} · {self.site}"


class ItemResult(models.Model):
    """检查结果: the result of one checklist line in one inspection."""

    class Result(models.TextChoices):
        PASS = "pass", "合格"
        FAIL = "fail", "不合格"
        NOT_APPLICABLE = "na", "不适用"

    inspection = models.ForeignKey(
        Inspection, verbose_name="检查记录", on_delete=models.CASCADE, related_name="results"
    )
    item = models.ForeignKey(
        CheckItem, verbose_name="检查项", on_delete=models.PROTECT, related_name="results"
    )
    result = models.CharField("结果", max_length=8, choices=Result.choices)
    occurrences = models.PositiveSmallIntegerField("问题处数", default=0)
    deduction = models.DecimalField("扣分", max_digits=6, decimal_places=2, default=0)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "检查结果"
        ordering = ["inspection", "item__position", "item_id"]
        constraints = [models.UniqueConstraint(fields=["inspection", "item"], name="itemresult_unique")]

    def __str__(self) -> str:
        return f"{self.item.code} {self.get_result_display()}"


class FindingQuerySet(models.QuerySet["Finding"]):
    def visible_to(self, user) -> "FindingQuerySet":
        """The findings of the inspections ``user`` sees (an unpublished 暗访's stay with HQ)."""
        if scope_for(user).everything:
            return self
        return self.filter(inspection__in=Inspection.objects.visible_to(user).values("pk"))

    def overdue(self, at=None) -> "FindingQuerySet":
        return self.exclude(status=Finding.Status.RECTIFIED).filter(deadline__lt=at or timezone.now())


class Finding(models.Model):
    """问题 / 整改项: a failed checklist line, on the rectification list 整改清单 of its
    responsible unit and leader with a deadline, until a 复查 finds it rectified."""

    class Status(models.TextChoices):
        OPEN = "open", "待整改"
        IN_CASE = "in_case", "已转案件"
        RECTIFIED = "rectified", "已整改"

    inspection = models.ForeignKey(
        Inspection, verbose_name="检查记录", on_delete=models.CASCADE, related_name="findings"
    )
    result = models.OneToOneField(
        ItemResult, verbose_name="检查结果", on_delete=models.CASCADE, related_name="finding"
    )
    site = models.ForeignKey(Site, verbose_name="点位", on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(CheckItem, verbose_name="检查项", on_delete=models.PROTECT, related_name="+")
    description = models.CharField("问题描述", max_length=500)
    deduction = models.DecimalField("扣分", max_digits=6, decimal_places=2)
    found_at = models.DateTimeField("发现时间")
    deadline = models.DateTimeField("整改时限")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    responsible_unit = models.ForeignKey(
        Unit, verbose_name="责任单位", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responsible_leader = models.ForeignKey(
        User, verbose_name="责任领导", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    case = models.OneToOneField(
        Case, verbose_name="案件", null=True, blank=True, on_delete=models.SET_NULL, related_name="finding"
    )
    rectified_at = models.DateTimeField("整改确认时间", null=True, blank=True)
    verified_by = models.ForeignKey(
        Inspection,
        verbose_name="复查记录",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="verified_findings",
    )
    recheck_failures = models.PositiveSmallIntegerField("复查未通过次数", default=0)

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "督查问题"
        ordering = ["-found_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "deadline"]),
            models.Index(fields=["responsible_unit", "status"]),
            models.Index(fields=["site", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.site} · {self.item.code}"

    def is_overdue(self, at=None) -> bool:
        return self.status != self.Status.RECTIFIED and self.deadline < (at or timezone.now())


class FindingPhoto(models.Model):
    """问题照片: evidence of a finding. As with case photos, the original (with EXIF and GPS)
    stays under ``private/``; pages show the stripped copy and the thumbnail."""

    finding = models.ForeignKey(Finding, verbose_name="问题", on_delete=models.CASCADE, related_name="photos")
    original = models.FileField("原图", max_length=200)
    image = models.FileField("照片", max_length=200)
    thumbnail = models.FileField("缩略图", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("字节数")
    width = models.PositiveIntegerField("宽", default=0)
    height = models.PositiveIntegerField("高", default=0)
    uploaded_by = models.ForeignKey(
        User, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "问题照片"
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.finding} 照片"


class InspectionEvent(models.Model):
    """督查记录: one step — who (person, role), when, from where (IP, GPS, device), why."""

    class Action(models.TextChoices):
        PLAN = "plan", "计划轮次"
        SUBMIT = "submit", "提交检查"
        CLOSE = "close", "结束轮次"
        PUBLISH = "publish", "发布暗访结果"
        TO_CASE = "to_case", "转为案件"
        RECHECK_PASS = "recheck_pass", "复查通过"
        RECHECK_FAIL = "recheck_fail", "复查未通过"
        EDIT_CHECKLIST = "edit_checklist", "修改测评表"

    action = models.CharField("动作", max_length=16, choices=Action.choices)
    round = models.ForeignKey(
        Round, verbose_name="轮次", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    inspection = models.ForeignKey(
        Inspection, verbose_name="检查记录", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    finding = models.ForeignKey(
        Finding, verbose_name="问题", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        User, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField("角色", max_length=20, choices=Role.choices, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)
    via = models.CharField("渠道", max_length=16, default="web")
    ip = models.GenericIPAddressField("来源 IP", null=True, blank=True)
    device = models.CharField("设备", max_length=200, blank=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    reason = models.CharField("说明", max_length=300, blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "督查记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"
