"""Problem cases 案件: the digital-city-management loop 立案 → 派单 → 处置 → 核查 → 结案.

Tables: the category catalogue 部件/事件 (``Category``), routing rules (``RoutingRule``), cases
(``Case``) with one part per responsible unit (``CasePart``, joint cases 吹哨报到), the timeline
(``CaseEvent``), photos (``CasePhoto``) and extension requests 延期 (``ExtensionRequest``).
Every state change goes through ``cases.services``; nothing here changes state on its own.
"""

import functools

from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from org.audit import via_label
from org.models import Grid, Region, Role, Unit, User
from org.scope import scope_for
from workdays.clock import Deadline, add_working_hours, due_soon_until
from workdays.models import DeadlineRule


@functools.cache
def _labels(choices: type[models.TextChoices]) -> dict[str, str]:
    return dict(choices.choices)


class CategoryQuerySet(models.QuerySet):
    def staff_selectable(self) -> "CategoryQuerySet":
        """The categories staff may report or reclassify a case into: active, not citizens-only."""
        return self.filter(active=True, public_only=False)


class Category(models.Model):
    """案件类别: a minor class of the 部件 (component) / 事件 (event) catalogue, with its major class.

    Codes follow the national digital-city-management standard (GB/T 30428.2 for components,
    the event classification of CJ/T 214) for the common classes; HQ adds local ones in the admin.
    """

    class Kind(models.TextChoices):
        COMPONENT = "component", "部件"
        EVENT = "event", "事件"

    code = models.CharField("编码", max_length=16)
    name = models.CharField("小类名称", max_length=60)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    major_code = models.CharField("大类编码", max_length=8)
    major_name = models.CharField("大类名称", max_length=40)
    time_limit_days = models.PositiveSmallIntegerField("处置时限（工作日）", default=5)
    time_limit_hours = models.PositiveSmallIntegerField(
        "紧急处置时限（小时）", null=True, blank=True, help_text="紧急案件按小时计时，节假日照常计算"
    )
    deadline_rule = models.CharField(
        "时限计算规则",
        max_length=16,
        choices=[(r.value, r.label) for r in (DeadlineRule.WORKING_HOURS, DeadlineRule.LEGAL_DAYS)],
        default=DeadlineRule.WORKING_HOURS,
        help_text="工作时制：从派遣时刻起只计工作时间；法定日制：次日起算，到期日24时截止",
    )
    default_unit_kind = models.CharField(
        "默认责任单位类型", max_length=32, choices=Unit.Kind.choices, blank=True
    )
    active = models.BooleanField("在用", default=True)
    public_only = models.BooleanField(
        "仅限群众选择",
        default=False,
        help_text="如“不确定”：群众诉求可选，采集员和工作人员上报、改类时不可选",
    )
    field_verification = models.BooleanField(
        "现场核查",
        default=False,
        help_text="处置完成后由所在网格的采集员（或上报的街巷长）到现场拍照核查，再由受理员结案或返工",
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "案件类别"
        ordering = ["kind", "code"]
        # The standard numbers components and events separately, so a code is unique per kind.
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="category_kind_code")]

    def __str__(self) -> str:
        return f"{self.major_name} / {self.name}"


class RoutingRule(models.Model):
    """派单规则: cases of this category in this region or grid go to this unit.

    Any of category, region and grid may be empty (matches everything). The most specific
    matching rule wins: a grid rule over a region rule, a deeper region over a shallower one,
    and with equal places a rule naming the category over one that does not (``cases.routing``).
    """

    category = models.ForeignKey(
        Category, verbose_name="类别", null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    region = models.ForeignKey(
        Region, verbose_name="区域", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    grid = models.ForeignKey(
        Grid, verbose_name="网格", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(Unit, verbose_name="责任单位", on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField("在用", default=True)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "派单规则"
        indexes = [models.Index(fields=["category", "active"])]

    def __str__(self) -> str:
        place = self.grid or self.region or "全区"
        return f"{self.category or '全部类别'} @ {place} → {self.unit}"


class CaseCounter(models.Model):
    """A year's case numbering: on SQLite the last number handed out; on PostgreSQL the floor of
    the year's number sequence (bulk loaders move it; see ``cases.numbering.draw_case_keys``)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "案件编号计数"

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


# The list's sort key as an annotation: the case's report time, read from the unit's part when the
# list is one unit's (``CaseQuerySet.of_unit``), so the database can use that unit's index.
LIST_AT = "list_at"


def _visible(qs: models.QuerySet, user, prefix: str, case_key: str) -> models.QuerySet:
    """Limit ``qs`` to the cases ``user`` may see: their scope (lead unit, region, grid), the cases
    in which one of their units holds a part, and the cases they or their units reported.
    ``prefix`` leads from the model of ``qs`` to the case ("" or "case__"), ``case_key`` names
    the case's key there ("pk" or "case_id")."""
    scope = scope_for(user)
    if scope.everything:
        return qs
    extra = Q(**{f"{prefix}reporter_id": user.pk}) if user.is_authenticated else Q(pk__in=[])
    if scope.unit_ids and not prefix and not (scope.region_paths or scope.grid_ids):
        # A unit's own work only: one "id IN (…)" over the indexed ways in (parts, lead,
        # reports), which PostgreSQL can read from those indexes when the scope is small
        # instead of walking the whole list checking each case against an OR.
        units = scope.unit_ids
        ids = (
            CasePart.objects.filter(unit_id__in=units)
            .order_by()
            .values("case_id")
            .union(
                Case.objects.filter(lead_unit_id__in=units).order_by().values("pk"),
                Case.objects.filter(reporter_unit_id__in=units).order_by().values("pk"),
                Case.objects.filter(reporter_id=user.pk).order_by().values("pk"),
                all=True,
            )
        )
        return qs.filter(pk__in=ids)
    if scope.unit_ids:
        holds_part = CasePart.objects.filter(case=OuterRef(case_key), unit_id__in=scope.unit_ids)
        extra |= Q(**{f"{prefix}reporter_unit_id__in": scope.unit_ids}) | Q(Exists(holds_part))
    return scope.filter(
        qs, unit=f"{prefix}lead_unit", region=f"{prefix}region", grid=f"{prefix}grid", extra=extra
    )


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user) -> "CaseQuerySet":
        """The cases ``user`` may see (see ``_visible``)."""
        return _visible(self, user, "", "pk")  # type: ignore[return-value]

    def of_unit(self, unit_id: int, *, active: bool = False) -> "CaseQuerySet":
        """The cases ``unit_id`` leads or holds a part of (``active``: an active part).

        The lead unit always holds a part (dispatch creates it; a lead's return clears
        ``lead_unit``), so "holds a part" covers "leads". The join goes through the unit's first
        part of each case only (``CasePart.case_reported_at`` is set there, None on later ones),
        so each case comes once, and the result is annotated ``list_at`` = that column, the
        case's report time: ordering by it (``LIST_AT``, see ``cases.keyset``) reads the part
        index ``(unit, case_reported_at, case)`` backwards, one seek whatever the unit's size.
        """
        qs = self.filter(parts__unit_id=unit_id, parts__case_reported_at__isnull=False).annotate(
            **{LIST_AT: F("parts__case_reported_at")}
        )
        if active:
            held = CasePart.objects.filter(
                case=OuterRef("pk"), unit_id=unit_id, status__in=CasePart.ACTIVE_STATUSES
            )
            qs = qs.filter(Exists(held))
        return qs

    def with_list_at(self) -> "CaseQuerySet":
        """Annotate ``list_at`` (the report time, the list's sort key) unless ``of_unit`` did."""
        if LIST_AT in self.query.annotations:
            return self
        return self.annotate(**{LIST_AT: F("reported_at")})

    def open(self) -> "CaseQuerySet":
        return self.filter(status__in=Case.OPEN_STATUSES)

    def overdue(self, at=None) -> "CaseQuerySet":
        return self.filter(status__in=Case.TIMED_STATUSES, due_at__lt=at or timezone.now())

    def due_soon(self, hours: float | None = None, at=None) -> "CaseQuerySet":
        """Running deadlines less than ``hours`` working hours away (default: ``due_soon_until``)."""
        moment = at or timezone.now()
        return self.filter(
            status__in=Case.TIMED_STATUSES,
            due_at__gte=moment,
            due_at__lt=add_working_hours(moment, hours) if hours else due_soon_until(moment),
        )


class Case(models.Model):
    """案件: one problem reported with photo, place and category, and its way through the loop."""

    class Source(models.TextChoices):
        COLLECTOR = "collector", "采集员上报"
        INSPECTION = "inspection", "督查发现"
        APPEAL = "appeal", "群众诉求"
        CLERK = "clerk", "坐席录入"
        OPEN311 = "open311", "Open311"
        API = "api", "接口"

    class Status(models.TextChoices):
        REPORTED = "reported", "待立案"
        ACCEPTED = "accepted", "待派遣"
        REJECTED = "rejected", "不予立案"
        MERGED = "merged", "已合并"
        DISPATCHED = "dispatched", "已派遣"
        RETURNED = "returned", "已退单"
        HANDLING = "handling", "处置中"
        HANDLED = "handled", "待核查"
        CLOSED = "closed", "已结案"

    OPEN_STATUSES = (
        Status.REPORTED,
        Status.ACCEPTED,
        Status.DISPATCHED,
        Status.RETURNED,
        Status.HANDLING,
        Status.HANDLED,
    )
    # Statuses with a running clock (``due_at``): each stage's deadline.
    TIMED_STATUSES = (Status.ACCEPTED, Status.RETURNED, Status.DISPATCHED, Status.HANDLING, Status.HANDLED)

    number = models.CharField("案件编号", max_length=16, unique=True)
    source = models.CharField("来源", max_length=12, choices=Source.choices, default=Source.COLLECTOR)
    # No index of their own for category, region and lead unit: the indexes beginning with them
    # (Meta.indexes, ``case_region_reported``, ``case_lead_unit_reported``) serve every look-up
    # by them, and each index less is one less to write on every report at 10M cases.
    category = models.ForeignKey(
        Category, verbose_name="类别", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    description = models.TextField("问题描述")
    address = models.CharField("地址", max_length=200, blank=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6)
    region = models.ForeignKey(
        Region,
        verbose_name="所在区域",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    grid = models.ForeignKey(
        Grid, verbose_name="所在网格", null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.REPORTED)
    urgent = models.BooleanField("紧急", default=False)
    reporter = models.ForeignKey(
        User,
        verbose_name="上报人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    reporter_unit = models.ForeignKey(
        Unit, verbose_name="上报单位", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", verbose_name="合并至", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name="主办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_cases",
        db_index=False,
    )

    reported_at = models.DateTimeField("上报时间", default=timezone.now)
    accepted_at = models.DateTimeField("立案时间", null=True, blank=True)
    # The first dispatch: the one the dispatch-on-time metric judges. Re-dispatches are events.
    dispatched_at = models.DateTimeField("派遣时间", null=True, blank=True)
    # The last time every part was handled (a rework sends it back; the next handling overwrites it).
    handled_at = models.DateTimeField("处置完成时间", null=True, blank=True)
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    # Rejected or merged: the moment the report ended without a case.
    ended_at = models.DateTimeField("办结时间", null=True, blank=True)

    dispatch_deadline = models.DateTimeField("派遣时限", null=True, blank=True)
    handle_deadline = models.DateTimeField("处置时限", null=True, blank=True)
    verify_deadline = models.DateTimeField("核查时限", null=True, blank=True)
    close_deadline = models.DateTimeField("结案时限", null=True, blank=True)
    # The deadline of the current stage, for queues, overdue and due-soon lists.
    due_at = models.DateTimeField("当前环节时限", null=True, blank=True)

    rework_count = models.PositiveSmallIntegerField("返工次数", default=0)
    return_count = models.PositiveSmallIntegerField("退单次数", default=0)
    extension_count = models.PositiveSmallIntegerField("延期次数", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "问题案件"
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["lead_unit", "status"]),
            models.Index(fields=["region", "status"]),
            models.Index(fields=["accepted_at"]),
            models.Index(fields=["handled_at"]),
            models.Index(fields=["category", "status"]),
            # The monthly summary's backlog (accepted by T, not closed by T): closed after T, or open.
            models.Index(fields=["closed_at"], name="case_closed_at"),
            models.Index(
                fields=["accepted_at"],
                condition=models.Q(closed_at__isnull=True),
                name="case_open_accepted_at",
            ),
            # The case list and its API, newest first with keyset pages: each common filter
            # (none, status, lead unit, region) leads an index that ends in the sort key, so a
            # page is one index seek (btree indexes are read backwards for "newest first").
            models.Index(fields=["reported_at", "id"], name="case_reported_id"),
            models.Index(fields=["status", "reported_at", "id"], name="case_status_reported"),
            models.Index(fields=["lead_unit", "reported_at", "id"], name="case_lead_unit_reported"),
            models.Index(fields=["region", "reported_at", "id"], name="case_region_reported"),
            # The map: the cases in a view (a longitude band, the latitude checked in the index).
            models.Index(fields=["lng", "lat"], name="case_lng_lat"),
            # Duplicate suggestions: the open cases of a category in a small box (cases.duplicates).
            models.Index(
                fields=["category", "lng", "lat"],
                condition=models.Q(
                    status__in=["reported", "accepted", "dispatched", "returned", "handling", "handled"]
                ),
                name="case_open_category_point",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.category.name}"

    def get_status_display(self) -> str:  # type: ignore[no-redef]  # replaces Django's
        # Django's own rebuilds a dict of the choices on every call; a detail asks about twenty
        # times (its timeline, the checks behind the steps the caller may take).
        return _labels(Case.Status).get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def is_overdue(self, at=None) -> bool:
        return (
            self.status in self.TIMED_STATUSES
            and self.due_at is not None
            and self.due_at < (at or timezone.now())
        )


class CasePartQuerySet(models.QuerySet["CasePart"]):
    def visible_to(self, user) -> "CasePartQuerySet":
        """The parts of the cases ``user`` may see."""
        return _visible(self, user, "case__", "case_id")  # type: ignore[return-value]


class CasePart(models.Model):
    """案件责任: one responsible unit's share of a case. A joint case (吹哨报到) has a lead part
    and co-unit parts; the case is handled when every active part is."""

    class Status(models.TextChoices):
        DISPATCHED = "dispatched", "待处置"
        HANDLING = "handling", "处置中"
        HANDLED = "handled", "已处置"
        RETURNED = "returned", "已退回"

    ACTIVE_STATUSES = (Status.DISPATCHED, Status.HANDLING, Status.HANDLED)

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="parts")
    unit = models.ForeignKey(
        Unit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="case_parts"
    )
    is_lead = models.BooleanField("主办", default=False)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.DISPATCHED)
    dispatched_at = models.DateTimeField("派遣时间", default=timezone.now)
    # The handling deadline after approved extensions (and the new one after a rework).
    deadline = models.DateTimeField("处置时限")
    started_at = models.DateTimeField("开始处置时间", null=True, blank=True)
    handled_at = models.DateTimeField("处置完成时间", null=True, blank=True)
    returned_at = models.DateTimeField("退回时间", null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField("已批准延期（工作日）", default=0)
    extension_hours = models.PositiveSmallIntegerField("已批准延期（小时）", default=0)
    # How the deadline was counted (``workdays.clock``): the rule, the limit counted from the
    # dispatch (or rework) moment, and whether it crossed a year without a known holiday schedule.
    # An empty rule: counted before the clock existed (the 17:30 cut-off rule).
    deadline_rule = models.CharField("时限计算规则", max_length=16, choices=DeadlineRule.choices, blank=True)
    time_limit = models.PositiveSmallIntegerField("时限（工作日，紧急为小时）", null=True, blank=True)
    deadline_provisional = models.BooleanField("时限暂定", default=False)
    note = models.CharField("处置说明", max_length=500, blank=True)
    # The case's report time, on the unit's first part of the case only (None on a later part the
    # same unit gets after a return and re-dispatch): each (unit, case) is one row of the index
    # below, so "the cases this unit holds a part of, newest first" is one index seek (see
    # ``CaseQuerySet.of_unit``). Set by the services that create parts; a case's report time
    # never changes.
    case_reported_at = models.DateTimeField("案件上报时间", null=True, blank=True, editable=False)

    objects = CasePartQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "案件责任单位"
        ordering = ["-is_lead", "id"]
        indexes = [
            models.Index(fields=["unit", "status", "deadline"]),
            models.Index(fields=["deadline"]),
            models.Index(
                fields=["unit", "case_reported_at", "case"],
                condition=models.Q(case_reported_at__isnull=False),
                name="part_unit_case_reported",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.unit}{'（主办）' if self.is_lead else ''}"

    def save(self, *args, **kwargs) -> None:
        # A new part that does not say: the unit's first part of the case carries its report
        # time (the services pass it; this covers other writers such as the admin and tests).
        if self._state.adding and self.case_reported_at is None:
            held = CasePart.objects.filter(case_id=self.case_id, unit_id=self.unit_id).exists()
            if not held:
                self.case_reported_at = self.case.reported_at
        super().save(*args, **kwargs)

    def get_status_display(self) -> str:  # type: ignore[no-redef]  # replaces Django's
        return _labels(CasePart.Status).get(self.status, self.status)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    DEADLINE_FIELDS = ("deadline", "deadline_rule", "time_limit", "deadline_provisional")

    def set_deadline(self, deadline: Deadline) -> None:
        """Store a deadline with what produced it (see ``DEADLINE_FIELDS``)."""
        self.deadline, self.deadline_rule = deadline.at, deadline.rule
        self.time_limit, self.deadline_provisional = deadline.limit, deadline.provisional

    @property
    def clock_rule(self) -> str:
        """The rule this part's deadline moves by (working hours for a part counted before the rules)."""
        return self.deadline_rule or DeadlineRule.WORKING_HOURS


class CaseEvent(models.Model):
    """案件流转记录: one step of the timeline — who (person, role, unit), when, from where, why."""

    class Action(models.TextChoices):
        REPORT = "report", "上报"
        ACCEPT = "accept", "立案"
        REJECT = "reject", "不予立案"
        MERGE = "merge", "合并"
        DISPATCH = "dispatch", "派单"
        RETURN = "return", "退单"
        START = "start", "开始处置"
        REQUEST_EXTENSION = "request_extension", "申请延期"
        APPROVE_EXTENSION = "approve_extension", "批准延期"
        DENY_EXTENSION = "deny_extension", "驳回延期"
        HANDLE = "handle", "处置完成"
        CLOSE = "close", "核查通过，结案"
        REWORK = "rework", "返工"
        RECLASSIFY = "reclassify", "改类"
        RECOMPUTE_DEADLINE = "recompute_deadline", "时限重算"
        FIELD_CHECK = "field_check", "现场核查"

    # Its look-ups by case use the indexes beginning with the case (Meta.indexes): none of its own.
    case = models.ForeignKey(
        Case, verbose_name="案件", on_delete=models.CASCADE, related_name="events", db_index=False
    )
    part = models.ForeignKey(
        CasePart,
        verbose_name="责任单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    action = models.CharField("动作", max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        User, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_role = models.CharField("角色", max_length=20, choices=Role.choices, blank=True)
    actor_unit = models.ForeignKey(
        Unit, verbose_name="操作单位", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField("时间", default=timezone.now)
    reason = models.TextField("理由/说明", blank=True)
    via = models.CharField("渠道", max_length=16, default="web")
    ip = models.GenericIPAddressField("来源 IP", null=True, blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "案件流转记录"
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"]),
            # "Was this case returned / reworked by T" (metrics, monthly summary): SQLite probes
            # by case and action; PostgreSQL hashes the month's reworks from an index-only scan.
            models.Index(fields=["case", "action", "at"], name="caseevent_case_action_at"),
            models.Index(fields=["action", "at", "case"], name="caseevent_action_at_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    def get_action_display(self) -> str:  # type: ignore[no-redef]  # replaces Django's
        return _labels(CaseEvent.Action).get(self.action, self.action)

    @property
    def via_label(self) -> str:
        return via_label(self.via)


class CasePhoto(models.Model):
    """案件照片: a before (处置前) or after (处置后) photo. The original, with its EXIF and GPS, is
    kept under ``private/`` and never served by URL; pages show the stripped copy and thumbnail."""

    class Kind(models.TextChoices):
        BEFORE = "before", "处置前"
        AFTER = "after", "处置后"
        CHECK = "check", "现场核查"

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(
        CaseEvent,
        verbose_name="环节",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="photos",
    )
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    original = models.FileField("原图", max_length=200)
    image = models.FileField("照片", max_length=200)
    thumbnail = models.FileField("缩略图", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveIntegerField("字节数")
    width = models.PositiveIntegerField("宽", default=0)
    height = models.PositiveIntegerField("高", default=0)
    uploaded_by = models.ForeignKey(
        User, verbose_name="上传人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "案件照片"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_kind_display()}"


class ExtensionRequest(models.Model):
    """延期申请: a unit asks for more working days on its part; HQ or a dispatcher decides."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        DENIED = "denied", "已驳回"
        WITHDRAWN = "withdrawn", "已撤回"  # the part was handled or returned before a decision

    part = models.ForeignKey(
        CasePart, verbose_name="责任单位", on_delete=models.CASCADE, related_name="extension_requests"
    )
    # Either working days or hours (clock hours for an urgent part, working hours under the
    # working-hours clock): exactly one is asked for.
    days = models.PositiveSmallIntegerField("延期工作日", default=0)
    hours = models.PositiveSmallIntegerField("延期小时", default=0)
    reason = models.TextField("申请理由")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        User, verbose_name="申请人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(
        User, verbose_name="审批人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "延期申请"
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "requested_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(days__gt=0, hours=0) | models.Q(days=0, hours__gt=0),
                name="extension_days_or_hours",
            )
        ]

    def __str__(self) -> str:
        return f"{self.part} +{self.amount_text} {self.get_status_display()}"

    @property
    def amount_text(self) -> str:
        """What was asked for: "2 个工作日", "3 小时" (an urgent part), "3 个工作时"."""
        if self.days:
            return f"{self.days} 个工作日"
        unit = "小时" if self.part.clock_rule == DeadlineRule.CLOCK_HOURS else "个工作时"
        return f"{self.hours} {unit}"


class FieldCheck(models.Model):
    """现场核查: after a case of a field-verified category (or source) is handled, the grid's
    collector (or the street chief who reported it) checks on site with a photo and GPS and passes
    or fails it; the dispatcher then closes (pass) or sends it back for rework (fail). One per
    round of handling (``round`` = the case's rework count when the task was made)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待核查"
        PASSED = "passed", "核查通过"
        FAILED = "failed", "核查未通过"

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="field_checks")
    round = models.PositiveSmallIntegerField("核查轮次", default=0)
    verifier = models.ForeignKey(
        User, verbose_name="核查人", on_delete=models.PROTECT, related_name="field_checks"
    )
    grid = models.ForeignKey(
        Grid, verbose_name="网格", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.PENDING)
    assigned_at = models.DateTimeField("下派时间")
    checked_at = models.DateTimeField("核查时间", null=True, blank=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    # How far the verifier stood from the case's point (recorded, not refused).
    distance_m = models.FloatField("距案件位置（米）", null=True, blank=True)
    note = models.CharField("核查说明", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "现场核查"
        ordering = ["assigned_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="fieldcheck_once_per_round")]
        indexes = [models.Index(fields=["verifier", "status", "assigned_at"], name="fieldcheck_verifier")]

    def __str__(self) -> str:
        return f"{self.case.number} {self.get_status_display()}"


class FigureSnapshot(models.Model):
    """汇总快照: the monthly summary or the metrics of one month, computed once as of T and kept
    (``cases.stored_figures``). A past month's (T = its end) never changes; the current month's is
    recomputed when older than ``CASES_FIGURES_MAX_AGE``. ``scope_key`` names whose cases it
    counts (``all``, or a digest of a person's scope), ``filters`` the unit, region, category."""

    class Kind(models.TextChoices):
        SUMMARY = "summary", "月度汇总"
        METRICS = "metrics", "考核指标"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    month = models.CharField("月份", max_length=7)  # YYYY-MM
    scope_key = models.CharField("范围", max_length=80)
    filters = models.CharField("筛选", max_length=100, blank=True)
    at = models.DateTimeField("数据截至", null=True, blank=True)
    computed_at = models.DateTimeField("计算时间", null=True, blank=True)
    data = models.JSONField("数据", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "汇总快照"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "month", "scope_key", "filters"], name="figuresnapshot_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.month} {self.scope_key} {self.filters}"


class MapCell(models.Model):
    """案件地图格网计数: how many cases of one status, reported in one month (``day`` 0) or on one
    day of it, in one region, lie in one cell of the map's global grid at one level (a cell is
    ``90 / 2**level`` degrees square), with their coordinates summed for the centroid. Kept by ``cases.mapcells``: each change of a
    case's place, region, status or report time writes a ``MapDelta`` in the change's own
    transaction (database triggers), folded in here every minute; the map's cluster views sum
    these rows and the pending changes."""

    level = models.PositiveSmallIntegerField("层级")
    cx = models.IntegerField("列")
    cy = models.IntegerField("行")
    region_key = models.IntegerField("区域")  # the case's region id, 0 for none
    status = models.CharField("状态", max_length=12)
    month = models.IntegerField("上报月份")  # YYYYMM, local time
    day = models.PositiveSmallIntegerField("上报日")  # 0: the whole month; 1-31: that day only
    count = models.IntegerField("案件数", default=0)
    sum_lat = models.FloatField("纬度和", default=0)
    sum_lng = models.FloatField("经度和", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "案件地图格网计数"
        constraints = [
            models.UniqueConstraint(
                fields=["level", "cx", "cy", "region_key", "status", "month", "day"], name="mapcell_key"
            )
        ]

    def __str__(self) -> str:
        return f"L{self.level} ({self.cx}, {self.cy}) {self.status} {self.month}: {self.count}"


class MapDelta(models.Model):
    """A change not yet folded into ``MapCell``: a case arriving at (+1) or leaving (−1) a place,
    region, status and report time. Written by the database's triggers on the case table in the
    changing transaction (an insert only: concurrent changes never wait for each other)."""

    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6)
    region_key = models.IntegerField("区域")
    status = models.CharField("状态", max_length=12)
    reported_at = models.DateTimeField("上报时间")
    delta = models.SmallIntegerField("增减")

    class Meta:
        verbose_name = verbose_name_plural = "案件地图待归并变化"

    def __str__(self) -> str:
        return f"{self.status} {self.delta:+d}"
