"""Monthly report materials 网报资料: "月初安排、月底申报、红黄牌警示".

At the start of a month HQ sets ``Requirement`` rows 资料要求 (most generated from the active index
system's criteria whose method is 材料审核), each assigned to units or communities as one
``Submission`` 资料报送 per unit. The unit's report clerk 网报专员 drafts text, uploads photos and
documents (``MaterialFile``) and submits by the due date; the requirement's reviewer scores it
(accepting it) or returns it for revision 退回修改. Every step writes a ``SubmissionEvent``.
HQ's ``CardPolicy`` says which months earn a yellow or red ``Card`` 红黄牌.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from indicators.models import Criterion
from org.models import Unit

DOCUMENT_TYPES = {"docx": "Word 文档", "xlsx": "Excel 表格", "pdf": "PDF"}


def template_path(instance: "Requirement", filename: str) -> str:
    # Under private/: served only through the view that checks the person may see the requirement.
    return f"private/materials/templates/{instance.month:%Y/%m}/{filename}"


class Requirement(models.Model):
    """资料要求: what one month's material for one criterion (or a hand-added topic) must contain."""

    month = models.DateField("月份")  # always the first day of the month
    criterion = models.ForeignKey(
        Criterion,
        verbose_name="测评标准",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="material_requirements",
    )
    title = models.CharField("资料名称", max_length=200)
    description = models.TextField("报送要求", blank=True)
    needs_text = models.BooleanField("需要文字说明", default=True)
    min_photos = models.PositiveSmallIntegerField("至少照片数", default=0)
    # Comma-separated keys of DOCUMENT_TYPES; empty = no document required.
    document_types = models.CharField("需要的文档类型", max_length=30, blank=True)
    template = models.FileField("模板文件", upload_to=template_path, max_length=300, blank=True)
    template_name = models.CharField("模板文件名", max_length=200, blank=True)
    points = models.DecimalField("分值", max_digits=6, decimal_places=2)
    due_date = models.DateField("截止日期")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="审核人", on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "资料要求"
        ordering = ["-month", "due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "criterion"],
                condition=Q(criterion__isnull=False),
                name="material_requirement_one_per_criterion_month",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.title}"

    @property
    def document_type_list(self) -> list[str]:
        return [t for t in self.document_types.split(",") if t]

    def document_type_labels(self) -> str:
        return "、".join(DOCUMENT_TYPES.get(t, t) for t in self.document_type_list)


class Submission(models.Model):
    """资料报送: one unit's material for one requirement, through draft, review and scoring."""

    class State(models.TextChoices):
        DRAFT = "draft", "待报送"
        SUBMITTED = "submitted", "待审核"
        RETURNED = "returned", "退回修改"
        ACCEPTED = "accepted", "已评分"

    EDITABLE = (State.DRAFT, State.RETURNED)

    requirement = models.ForeignKey(
        Requirement, verbose_name="资料要求", on_delete=models.PROTECT, related_name="submissions"
    )
    unit = models.ForeignKey(
        Unit, verbose_name="报送单位", on_delete=models.PROTECT, related_name="material_submissions"
    )
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.DRAFT)
    text = models.TextField("文字说明", blank=True)
    version = models.PositiveIntegerField("提交次数", default=0)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    first_submitted_at = models.DateTimeField("首次提交时间", null=True, blank=True)
    is_late = models.BooleanField("逾期提交", default=False)
    return_count = models.PositiveIntegerField("退回次数", default=0)
    score = models.DecimalField("得分", max_digits=6, decimal_places=2, null=True, blank=True)
    review_comment = models.CharField("审核意见", max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "资料报送"
        ordering = ["requirement__due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["requirement", "unit"], name="material_submission_unique")
        ]
        indexes = [models.Index(fields=["state", "unit"])]

    def __str__(self) -> str:
        return f"{self.unit} · {self.requirement.title}"

    @property
    def is_open(self) -> bool:
        return self.state in self.EDITABLE

    @property
    def percent(self) -> Decimal | None:
        if self.score is None or not self.requirement.points:
            return None
        return self.score * 100 / self.requirement.points


class MaterialFile(models.Model):
    """资料文件: a photo or a document of a submission. Every file lives under ``private/`` and is
    served only through the views that check the submission's scope. For photos ``file`` is the
    copy re-encoded without metadata and ``original`` (with its EXIF) is kept and never served."""

    class Kind(models.TextChoices):
        PHOTO = "photo", "照片"
        DOCUMENT = "document", "文档"

    submission = models.ForeignKey(
        Submission, verbose_name="资料报送", on_delete=models.CASCADE, related_name="files"
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("内容类型", max_length=100)
    file = models.FileField("文件", max_length=300)
    original = models.FileField("原图", max_length=300, blank=True)
    thumbnail = models.FileField("缩略图", max_length=300, blank=True)
    size = models.PositiveIntegerField("字节数")
    sha256 = models.CharField("SHA-256", max_length=64)
    added_in_version = models.PositiveIntegerField("所属版本", default=1)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "资料文件"
        ordering = ["submission", "kind", "pk"]

    def __str__(self) -> str:
        return self.name


class SubmissionEvent(models.Model):
    """报送记录: one step of a submission: who, when, from where, what and why."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "下达要求"
        SAVED = "saved", "保存草稿"
        UPLOADED = "uploaded", "上传文件"
        REMOVED = "removed", "删除文件"
        SUBMITTED = "submitted", "提交"
        RETURNED = "returned", "退回修改"
        SCORED = "scored", "评分"

    submission = models.ForeignKey(
        Submission, verbose_name="资料报送", on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField("动作", max_length=12, choices=Kind.choices)
    version = models.PositiveIntegerField("版本", default=0)
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
        verbose_name = verbose_name_plural = "报送记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class CardPolicy(models.Model):
    """红黄牌规则: HQ's rules for the monthly cards, in force from a month until the next policy."""

    effective_from = models.DateField("生效月份", unique=True)  # first day of a month
    pass_percent = models.PositiveSmallIntegerField("合格线(得分率%)", default=60)
    yellow_for_missing = models.BooleanField("未报送亮黄牌", default=True)
    yellow_for_failing = models.BooleanField("不合格亮黄牌", default=True)
    yellow_for_late = models.BooleanField("逾期报送亮黄牌", default=False)
    red_for_missing_after_return = models.BooleanField("退回后未重报亮红牌", default=True)
    # A yellow that is the Nth (or later) unrevoked yellow of the unit in one quarter also brings a
    # red card; 0 turns the rule off.
    yellows_for_red = models.PositiveSmallIntegerField("季度内第几张黄牌升红牌", default=2)
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="设置人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("设置时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "红黄牌规则"
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.effective_from:%Y-%m} 起"

    @classmethod
    def for_month(cls, month) -> "CardPolicy":
        """The policy in force in ``month``: the latest one starting by then, else the defaults."""
        found = cls.objects.filter(effective_from__lte=month).order_by("-effective_from").first()
        return found or cls(effective_from=month)


class Card(models.Model):
    """红黄牌: a warning to a unit for a month, with its reasons and the submissions behind it."""

    class Color(models.TextChoices):
        YELLOW = "yellow", "黄牌"
        RED = "red", "红牌"

    class Rule(models.TextChoices):
        MISSING = "missing", "未报送"
        FAILING = "failing", "审核不合格"
        LATE = "late", "逾期报送"
        MISSING_AFTER_RETURN = "missing_after_return", "退回后未重新报送"
        REPEATED_YELLOW = "repeated_yellow", "季度内再次被亮黄牌"
        MANUAL = "manual", "创文办直接认定"

    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="cards")
    month = models.DateField("月份")
    color = models.CharField("颜色", max_length=8, choices=Color.choices)
    rules = models.JSONField("依据规则", default=list)
    reason = models.CharField("原因", max_length=500)
    is_automatic = models.BooleanField("月度自动认定", default=False)
    submissions = models.ManyToManyField(
        Submission, verbose_name="相关报送", blank=True, related_name="cards"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="认定人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_via = models.CharField("渠道", max_length=16, default="web")
    issued_ip = models.GenericIPAddressField("来源 IP", null=True, blank=True)
    issued_at = models.DateTimeField("认定时间", default=timezone.now)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoke_reason = models.CharField("撤销原因", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "红黄牌"
        ordering = ["-month", "unit__code", "color"]
        constraints = [
            # The monthly job issues at most one card of each colour per unit and month, ever: a card
            # HQ revoked is not issued again by the next run.
            models.UniqueConstraint(
                fields=["unit", "month", "color"],
                condition=Q(is_automatic=True),
                name="material_card_automatic_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y-%m} {self.get_color_display()}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def rule_labels(self) -> str:
        return "、".join(self.Rule(r).label for r in self.rules if r in self.Rule.values)
