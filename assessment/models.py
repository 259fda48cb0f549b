"""Assessment 考评: schemes 考评方案, runs 考评批次 with their frozen figures, and circulars 通报.

A run's figures and scores are stored rows: computed once as of the run's moment T, and after
publishing never computed again (docs/assessment.md)."""

from django.db import models
from django.utils import timezone

from org.models import Unit, User


class PeriodKind(models.TextChoices):
    WEEK = "week", "周督查"
    MONTH = "month", "月通报"
    QUARTER = "quarter", "季考评"


class Scheme(models.Model):
    """考评方案: which units are ranked together, by which weighted components, per period kind."""

    class NoData(models.TextChoices):
        REWEIGHT = "reweight", "按有数据的组成部分重新计权"
        EXCLUDE = "exclude", "缺任一组成部分则不参与排名"

    name = models.CharField("名称", max_length=100)
    period_kind = models.CharField("周期", max_length=10, choices=PeriodKind.choices)
    unit_kinds = models.JSONField("参评单位类型", default=list)
    no_data = models.CharField("无数据规则", max_length=10, choices=NoData.choices, default=NoData.REWEIGHT)
    list_size = models.PositiveSmallIntegerField("红黑榜人数", default=3)
    is_active = models.BooleanField("定期自动计算", default=True)
    created_by = models.ForeignKey(User, verbose_name="创建人", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "考评方案"
        ordering = ["period_kind", "name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """One weighted part of a scheme; a scheme's weights add up to 100."""

    class Kind(models.TextChoices):
        CASES = "cases", "案件综合指数"
        INSPECTIONS = "inspections", "实地督查得分"
        MATERIALS = "materials", "报送材料得分率"
        TASKS = "tasks", "任务按期销号率"
        BONUS = "bonus", "加减分"
        APPEALS = "appeals", "诉求化解率"
        CARDS = "cards", "红黄牌扣分"
        JOINT = "joint", "联合执法报到率"

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField("组成部分", max_length=20, choices=Kind.choices)
    weight = models.PositiveSmallIntegerField("权重")

    class Meta:
        verbose_name = verbose_name_plural = "考评组成部分"
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["scheme", "kind"], name="component_once_per_scheme")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.weight}"


class Run(models.Model):
    """考评批次: a scheme applied to one period as of T; draft until published, then frozen."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"

    scheme = models.ForeignKey(Scheme, verbose_name="考评方案", on_delete=models.PROTECT, related_name="runs")
    period_kind = models.CharField("周期", max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField("起始日")
    period_end = models.DateField("截止日（不含）")
    label = models.CharField("期别", max_length=40)
    at = models.DateTimeField("数据截至 T")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    weights = models.JSONField("权重（计算时）", default=dict)
    no_data = models.CharField("无数据规则（计算时）", max_length=10)
    list_size = models.PositiveSmallIntegerField("红黑榜人数", default=3)
    computed_at = models.DateTimeField("计算时间")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    version = models.PositiveSmallIntegerField("版本", default=1)
    previous = models.ForeignKey(
        "self",
        verbose_name="更正前版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    reason = models.CharField("更正原因", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "考评批次"
        ordering = ["-period_start", "-version", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "period_start", "version"], name="run_version_once_per_scheme_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheme} · {self.label}" + (
            f"（更正版 第{self.version}版）" if self.version > 1 else ""
        )

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def is_correction(self) -> bool:
        return self.version > 1


class Figure(models.Model):
    """One frozen input: a component's value for a unit, with numerator, denominator and where
    it came from. ``value`` is None when the unit had no data for the component."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="figures")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("组成部分", max_length=20, choices=Component.Kind.choices)
    value = models.DecimalField("得分", max_digits=7, decimal_places=2, null=True)
    numerator = models.DecimalField("分子", max_digits=14, decimal_places=2, default=0)
    denominator = models.DecimalField("分母", max_digits=14, decimal_places=2, default=0)
    source = models.JSONField("来源", default=dict)

    class Meta:
        verbose_name = verbose_name_plural = "考评数据"
        ordering = ["unit__code", "pk"]
        constraints = [models.UniqueConstraint(fields=["run", "unit", "kind"], name="figure_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class Score(models.Model):
    """A unit's frozen total and rank in a run (rank None: not ranked, see the no-data rule)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="scores")
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField("总分", max_digits=7, decimal_places=2, null=True)
    rank = models.PositiveIntegerField("名次", null=True)
    note = models.CharField("说明", max_length=200, blank=True)

    # Filled by ``services.ranking`` from the previous period's latest published run (not stored:
    # both runs' ranks are frozen, so the comparison is too).
    previous_rank: int | None = None
    movement: str = ""

    class Meta:
        verbose_name = verbose_name_plural = "考评得分"
        ordering = ["rank", "unit__code"]
        constraints = [models.UniqueConstraint(fields=["run", "unit"], name="score_once")]

    def __str__(self) -> str:
        return f"{self.unit} {self.total}"


class RunEvent(models.Model):
    """The trail of a run: computed, recomputed, published, circular issued."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("动作", max_length=20)
    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    ip = models.GenericIPAddressField(null=True)
    via = models.CharField(max_length=10)
    note = models.CharField("说明", max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class Circular(models.Model):
    """通报: drafted from a published run and edited by HQ, then issued: numbered from the year's
    sequence, its Word document rendered and kept; immutable once issued."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        ISSUED = "issued", "已印发"

    run = models.OneToOneField(
        Run, verbose_name="考评批次", on_delete=models.PROTECT, related_name="circular"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ISSUED)
    year = models.PositiveSmallIntegerField("年度", null=True)
    sequence = models.PositiveIntegerField("序号", null=True)
    number = models.CharField("文号", max_length=40, blank=True)  # given at issue
    title = models.CharField("标题", max_length=100)
    body = models.TextField("正文", max_length=4000)
    document = models.BinaryField("Word 文档", null=True)
    pdf = models.BinaryField("PDF 文档", null=True)
    drafted_by = models.ForeignKey(
        User, verbose_name="起草人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    drafted_at = models.DateTimeField("起草时间", null=True)
    issued_by = models.ForeignKey(
        User, verbose_name="签发人", null=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("签发时间", null=True)

    class Meta:
        verbose_name = verbose_name_plural = "通报"
        ordering = ["-year", "-sequence", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="circular_number_once"),
            models.UniqueConstraint(
                fields=["number"], condition=~models.Q(number=""), name="circular_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.title}（草稿）"

    @property
    def is_issued(self) -> bool:
        return self.status == self.Status.ISSUED


class Accountability(models.Model):
    """约谈/问责: what HQ decided against a unit (or a person in it) named in a circular, with the
    unit's public statement and commitment 公开陈述和承诺 and the date it is followed up."""

    class Kind(models.TextChoices):
        TALK = "talk", "约谈"
        ACCOUNTABILITY = "accountability", "问责"

    circular = models.ForeignKey(
        Circular, verbose_name="通报", on_delete=models.PROTECT, related_name="accountabilities"
    )
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    person = models.CharField("对象（人员）", max_length=50, blank=True)
    reason = models.CharField("事由", max_length=500)
    statement = models.TextField("公开陈述和承诺", max_length=2000, blank=True)
    follow_up_on = models.DateField("跟踪复查日期")
    recorded_by = models.ForeignKey(User, verbose_name="记录人", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("记录时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "约谈问责"
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.unit}"


class Bonus(models.Model):
    """加减分: points HQ adds to or takes from a unit in one period of a scheme, with a reason and
    evidence; it counts in a run only once a second HQ user approved it (before the run's T)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已审核"
        REJECTED = "rejected", "已驳回"

    scheme = models.ForeignKey(
        Scheme, verbose_name="考评方案", on_delete=models.PROTECT, related_name="bonuses"
    )
    period_start = models.DateField("期别起始日")
    label = models.CharField("期别", max_length=40)
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField("分值（正为加分，负为减分）", max_digits=5, decimal_places=2)
    reason = models.CharField("事由", max_length=500)
    evidence_text = models.TextField("佐证说明", max_length=2000, blank=True)
    evidence_file = models.FileField("佐证文件", max_length=300, blank=True)
    evidence_name = models.CharField("佐证文件名", max_length=200, blank=True)
    evidence_type = models.CharField(max_length=100, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    entered_by = models.ForeignKey(User, verbose_name="录入人", on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField("录入时间", default=timezone.now)
    decided_by = models.ForeignKey(
        User, verbose_name="审核人", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decision_note = models.CharField("审核意见", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "加减分"
        ordering = ["-period_start", "-entered_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.unit} {self.points:+}"
