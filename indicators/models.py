"""Evaluation index systems (测评体系) and their decomposition into tasks (任务分解) with close-out (销号).

An ``IndexSystem`` is a versioned tree 测评项目 (``IndexProject``) → 测评内容 (``IndexItem``) →
测评标准 (``Criterion``). Several systems coexist; one is active per campaign year. Each item is
decomposed into ``Task`` rows (lead unit, co-units, responsible leader and person, deadline,
acceptance standard, monthly ``Milestone`` plan). Units report ``ProgressReport`` rows with
``Evidence`` files; HQ approves the close-out (销号) and may reopen it. Every step writes a
``TaskEvent`` (who, when, from where).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from org.audit import via_label
from org.models import Unit


class IndexSystem(models.Model):
    """测评体系: one edition of an evaluation index system (national, provincial manual ...)."""

    name = models.CharField("体系名称", max_length=100)
    version = models.CharField("版本", max_length=30)
    campaign_year = models.PositiveIntegerField("创建年度")
    is_active = models.BooleanField("当前使用", default=False)
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("导入时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "测评体系"
        ordering = ["-campaign_year", "name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="index_system_version_unique"),
            models.UniqueConstraint(
                fields=["campaign_year"], condition=Q(is_active=True), name="index_system_one_active_per_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.version}）"

    @property
    def points(self) -> Decimal:
        return sum((p.points for p in self.projects.all()), Decimal(0))

    @classmethod
    def active(cls, year: int | None = None) -> "IndexSystem | None":
        """The system in use for ``year`` (default: this year), else the newest active one."""
        year = year or timezone.localdate().year
        qs = cls.objects.filter(is_active=True)
        return qs.filter(campaign_year=year).first() or qs.order_by("-campaign_year").first()


class IndexProject(models.Model):
    """测评项目: the first level of the index tree (e.g. 健康向上的人文环境)."""

    system = models.ForeignKey(
        IndexSystem, verbose_name="测评体系", on_delete=models.CASCADE, related_name="projects"
    )
    code = models.CharField("项目编码", max_length=32)
    name = models.CharField("测评项目", max_length=200)
    points = models.DecimalField("分值", max_digits=7, decimal_places=2)
    position = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "测评项目"
        ordering = ["system", "position"]
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="index_project_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class IndexItem(models.Model):
    """测评内容: the second level, the unit of decomposition into tasks."""

    project = models.ForeignKey(
        IndexProject, verbose_name="测评项目", on_delete=models.CASCADE, related_name="items"
    )
    code = models.CharField("内容编码", max_length=32)
    name = models.CharField("测评内容", max_length=300)
    points = models.DecimalField("分值", max_digits=7, decimal_places=2)
    position = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "测评内容"
        ordering = ["project__position", "position"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="index_item_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Criterion(models.Model):
    """测评标准: what the assessors check, with its points, method and frequency."""

    class Method(models.TextChoices):
        FIELD = "field", "实地考察"
        MATERIAL = "material", "材料审核"
        SURVEY = "survey", "问卷调查"

    class Frequency(models.TextChoices):
        YEARLY = "yearly", "每年"
        HALF_YEARLY = "half_yearly", "每半年"
        QUARTERLY = "quarterly", "每季度"
        MONTHLY = "monthly", "每月"
        ONGOING = "ongoing", "常态"

    item = models.ForeignKey(
        IndexItem, verbose_name="测评内容", on_delete=models.CASCADE, related_name="criteria"
    )
    code = models.CharField("标准编码", max_length=32)
    text = models.TextField("测评标准")
    points = models.DecimalField("分值", max_digits=7, decimal_places=2)
    method = models.CharField("测评方法", max_length=16, choices=Method.choices)
    frequency = models.CharField("测评频次", max_length=16, choices=Frequency.choices)
    position = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "测评标准"
        ordering = ["item__project__position", "item__position", "position"]
        constraints = [models.UniqueConstraint(fields=["item", "code"], name="criterion_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.text[:30]}"


class Task(models.Model):
    """任务: one decomposed piece of an index item, with its 五落实 (task, unit, person, progress, time)."""

    class State(models.TextChoices):
        ASSIGNED = "assigned", "已分解"
        IN_PROGRESS = "in_progress", "推进中"
        CLOSE_REQUESTED = "close_requested", "待销号审核"
        CLOSED = "closed", "已销号"

    item = models.ForeignKey(
        IndexItem, verbose_name="测评内容", on_delete=models.PROTECT, related_name="tasks"
    )
    criterion = models.ForeignKey(
        Criterion,
        verbose_name="测评标准",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    title = models.CharField("任务", max_length=300)
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name="牵头单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_tasks",
    )
    co_units = models.ManyToManyField(Unit, verbose_name="配合单位", blank=True, related_name="co_tasks")
    responsible_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任领导",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_index_tasks",
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="index_tasks",
    )
    deadline = models.DateField("完成时限", null=True, blank=True)
    acceptance_standard = models.TextField("验收标准", blank=True)
    is_key = models.BooleanField("挂牌督战", default=False)
    state = models.CharField("状态", max_length=20, choices=State.choices, default=State.ASSIGNED)
    progress = models.PositiveSmallIntegerField("进度(%)", default=0)
    reopen_count = models.PositiveIntegerField("重新打开次数", default=0)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="销号审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "任务"
        ordering = ["item__project__position", "item__position", "pk"]
        indexes = [models.Index(fields=["state", "deadline"])]

    def __str__(self) -> str:
        return self.title

    @property
    def system(self) -> IndexSystem:
        return self.item.project.system

    def milestone_for(self, day) -> "Milestone | None":
        """The plan of ``day``'s month, if the task has one."""
        month = day.replace(day=1)
        return next((m for m in self.milestones.all() if m.month == month), None)


class Milestone(models.Model):
    """月度节点: the progress a task should have reached by the end of a month."""

    task = models.ForeignKey(Task, verbose_name="任务", on_delete=models.CASCADE, related_name="milestones")
    month = models.DateField("月份")  # always the first day of the month
    target = models.PositiveSmallIntegerField("目标进度(%)")
    description = models.CharField("节点内容", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "月度节点"
        ordering = ["task", "month"]
        constraints = [models.UniqueConstraint(fields=["task", "month"], name="milestone_month_unique")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.target}%"


class ProgressReport(models.Model):
    """进度报告: a unit's report on a task (percentage, text, evidence); a close-out request is one too."""

    class Review(models.TextChoices):
        PENDING = "pending", "待审核"
        ACCEPTED = "accepted", "已审核"
        RETURNED = "returned", "退回"

    task = models.ForeignKey(Task, verbose_name="任务", on_delete=models.CASCADE, related_name="reports")
    percent = models.PositiveSmallIntegerField("进度(%)")
    text = models.TextField("进展情况")
    is_close_out = models.BooleanField("销号申请", default=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reported_at = models.DateTimeField("报告时间", default=timezone.now)
    review = models.CharField("审核", max_length=16, choices=Review.choices, default=Review.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    review_note = models.CharField("审核意见", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "进度报告"
        ordering = ["-reported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.task} {self.percent}%"


def evidence_path(instance: "Evidence", filename: str) -> str:
    # Under private/: evidence is served only through the view that checks scope.
    return f"private/indicators/{timezone.now():%Y/%m}/{filename}"


class Evidence(models.Model):
    """佐证材料: a file attached to a progress report or close-out request."""

    report = models.ForeignKey(
        ProgressReport, verbose_name="进度报告", on_delete=models.CASCADE, related_name="evidence"
    )
    file = models.FileField("文件", upload_to=evidence_path, max_length=300)
    name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小")

    class Meta:
        verbose_name = verbose_name_plural = "佐证材料"

    def __str__(self) -> str:
        return self.name


class TaskEvent(models.Model):
    """任务记录: one step in a task's life: who, when, from where, what and why."""

    class Kind(models.TextChoices):
        CREATED = "created", "分解任务"
        UPDATED = "updated", "调整分解"
        MILESTONES = "milestones", "制定月度节点"
        PROGRESS = "progress", "报告进度"
        REVIEWED = "reviewed", "审核进度"
        CLOSE_REQUESTED = "close_requested", "申请销号"
        CLOSED = "closed", "批准销号"
        CLOSE_REJECTED = "close_rejected", "退回销号申请"
        REOPENED = "reopened", "重新打开"

    task = models.ForeignKey(Task, verbose_name="任务", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("动作", max_length=20, choices=Kind.choices)
    at = models.DateTimeField("时间", default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    via = models.CharField("渠道", max_length=16, default="web")
    ip = models.GenericIPAddressField("来源 IP", null=True, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "任务记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"

    @property
    def via_label(self) -> str:
        return via_label(self.via)
