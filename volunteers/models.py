"""Volunteer services 新时代文明实践: practice stations, teams, volunteers, the service menu, the
order loop 点单 → 派单 → 接单 → 评单, activities 活动, service hours and the points bank 文明银行.

Real-name data (name, ID number, phone of volunteers; phone and name of citizens who order) is
shown masked (``volunteers.privacy``) except to authorised staff, and every full read is logged.
The points ledger ``PointsEntry`` is append-only; ``Volunteer.points_balance`` is its running sum,
kept under a row lock by ``volunteers.services`` and never below zero (a database constraint too).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from org.models import Region

from .privacy import mask_id_number, mask_name, mask_phone

# Unambiguous characters only (no 0/O, 1/I/L), as the appeals' tracking codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(value: str) -> str:
    """What the citizen typed, upper-cased, without spaces and dashes."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


class ServiceKind(models.TextChoices):
    """服务类别: the kinds of service on the menu (also the kinds of activity and points rules)."""

    THEORY = "theory", "理论宣讲"
    TRAFFIC = "traffic", "文明交通"
    ENVIRONMENT = "environment", "环境卫生"
    ELDERLY = "elderly", "助老助残"
    CULTURE = "culture", "文化文艺"
    HEALTH = "health", "医疗健康"
    LEGAL = "legal", "法律咨询"
    OTHER = "other", "其他"


class Station(models.Model):
    """文明实践中心 / 所 / 站: the centre (district), stations 所 (streets, townships) and points 站
    (communities, villages), each mapped onto a region of the area tree."""

    class Kind(models.TextChoices):
        CENTRE = "centre", "新时代文明实践中心"
        STATION = "station", "新时代文明实践所"
        POINT = "point", "新时代文明实践站"

    PARENT_KIND = {Kind.CENTRE: None, Kind.STATION: Kind.CENTRE, Kind.POINT: Kind.STATION}

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("层级", max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    region = models.ForeignKey(Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="+")
    address = models.CharField("地址", max_length=200, blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="管理员", blank=True, related_name="managed_stations"
    )

    class Meta:
        verbose_name = verbose_name_plural = "文明实践中心/所/站"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    """志愿服务组织: a registered volunteer organisation; its teams serve at stations."""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)

    class Meta:
        verbose_name = verbose_name_plural = "志愿服务组织"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


def split_skills(text: str) -> list[str]:
    """Skills are kept as one text of kinds separated by 、 or commas."""
    return [s for s in (p.strip() for p in text.replace("，", "、").replace(",", "、").split("、")) if s]


class Team(models.Model):
    """志愿服务队: a team attached to a station, offering some kinds of service."""

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="所属组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teams",
    )
    station = models.ForeignKey(
        Station, verbose_name="所属阵地", on_delete=models.PROTECT, related_name="teams"
    )
    skills = models.CharField("服务类别", max_length=200, blank=True, help_text="服务类别代码，用“、”分隔")
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "志愿服务队"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def skill_list(self) -> list[str]:
        return split_skills(self.skills)


class Volunteer(models.Model):
    """志愿者: a registered volunteer with real-name data, skills, area and availability."""

    number = models.CharField("志愿者编号", max_length=20, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    name = models.CharField("姓名", max_length=50)
    id_number = models.CharField("身份证号", max_length=18, unique=True)
    phone = models.CharField("手机号", max_length=11)
    skills = models.CharField("服务特长", max_length=200, blank=True)
    region = models.ForeignKey(
        Region, verbose_name="服务区域", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    availability = models.CharField("可服务时间", max_length=100, blank=True)
    teams: models.ManyToManyField = models.ManyToManyField(
        Team, through="TeamMember", related_name="volunteers", verbose_name="服务队"
    )
    points_balance = models.IntegerField("积分余额", default=0, editable=False)
    registered_at = models.DateTimeField("注册时间", default=timezone.now)
    is_active = models.BooleanField("在册", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "志愿者"
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(condition=Q(points_balance__gte=0), name="volunteer_balance_gte_0")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.masked_name}"

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class TeamMember(models.Model):
    """队员: a volunteer in a team; the leader 队长 puts members on orders and confirms their hours."""

    team = models.ForeignKey(Team, verbose_name="服务队", on_delete=models.CASCADE, related_name="members")
    volunteer = models.ForeignKey(
        Volunteer, verbose_name="志愿者", on_delete=models.CASCADE, related_name="memberships"
    )
    is_leader = models.BooleanField("队长", default=False)
    joined_at = models.DateTimeField("加入时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "队员"
        constraints = [models.UniqueConstraint(fields=["team", "volunteer"], name="team_member_unique")]

    def __str__(self) -> str:
        return f"{self.team} · {self.volunteer}"


class Service(models.Model):
    """服务项目 (菜单): what a station offers, to whom and where."""

    station = models.ForeignKey(
        Station, verbose_name="发布阵地", on_delete=models.PROTECT, related_name="services"
    )
    kind = models.CharField("服务类别", max_length=20, choices=ServiceKind.choices)
    name = models.CharField("服务名称", max_length=100)
    description = models.CharField("服务内容", max_length=500, blank=True)
    audience = models.CharField("服务对象", max_length=100, blank=True, help_text="谁可以点单，如“辖区居民”")
    area = models.CharField("服务范围", max_length=100, blank=True)
    is_active = models.BooleanField("上架", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "服务菜单"
        ordering = ["station__code", "kind", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.station}）"


class Order(models.Model):
    """服务订单: one citizen's order 点单, assigned 派单 to a team that accepts 接单, serves and is
    rated 评单."""

    class Status(models.TextChoices):
        ORDERED = "ordered", "待派单"
        ASSIGNED = "assigned", "待接单"
        ACCEPTED = "accepted", "已接单"
        SERVING = "serving", "服务中"
        SERVED = "served", "待评价"
        RATED = "rated", "已评价"

    # States with a running deadline (overdue when due_at has passed).
    TIMED = (Status.ORDERED, Status.ASSIGNED, Status.ACCEPTED, Status.SERVING)

    class Channel(models.TextChoices):
        PUBLIC = "public", "群众点单（手机）"
        STAFF = "staff", "工作人员录入"
        API = "api", "接口"

    code = models.CharField("查询码", max_length=CODE_LENGTH, unique=True, default=new_code)
    service = models.ForeignKey(
        Service, verbose_name="服务项目", on_delete=models.PROTECT, related_name="orders"
    )
    station = models.ForeignKey(Station, verbose_name="阵地", on_delete=models.PROTECT, related_name="orders")
    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ORDERED)
    description = models.CharField("需求描述", max_length=500)
    address = models.CharField("服务地点", max_length=200)
    lat = models.FloatField("纬度", null=True, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    wanted_on = models.DateField("期望服务日期", null=True, blank=True)
    people = models.PositiveIntegerField("服务人数", default=1)
    phone = models.CharField("联系电话", max_length=20)
    name = models.CharField("称呼", max_length=50, blank=True)
    team = models.ForeignKey(
        Team, verbose_name="服务队", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    ordered_at = models.DateTimeField("点单时间", default=timezone.now, db_index=True)
    assigned_at = models.DateTimeField("派单时间", null=True, blank=True)
    accepted_at = models.DateTimeField("接单时间", null=True, blank=True)
    served_at = models.DateTimeField("完成时间", null=True, blank=True)
    rated_at = models.DateTimeField("评价时间", null=True, blank=True)
    due_at = models.DateTimeField("当前时限", null=True, blank=True, db_index=True)
    decline_count = models.PositiveIntegerField("拒单次数", default=0)
    service_note = models.CharField("服务纪实", max_length=500, blank=True)
    rating = models.PositiveSmallIntegerField("评分", null=True, blank=True)
    rating_comment = models.CharField("评价意见", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "服务订单"
        ordering = ["-ordered_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="order_rating_1_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.service.name}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def is_overdue(self) -> bool:
        return self.status in self.TIMED and self.due_at is not None and self.due_at < timezone.now()


class OrderPhoto(models.Model):
    """服务照片: a photo of the service, added when the leader completes the order. As with case
    photos (``cases.photos``), the original (with EXIF and GPS) stays under ``private/`` and is
    never served; pages show the stripped copy and the thumbnail."""

    order = models.ForeignKey(Order, verbose_name="服务订单", on_delete=models.CASCADE, related_name="photos")
    original = models.FileField("原图", max_length=200)
    image = models.FileField("照片", max_length=200)
    thumbnail = models.FileField("缩略图", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveIntegerField("字节数")
    width = models.PositiveIntegerField("宽", default=0)
    height = models.PositiveIntegerField("高", default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "服务照片"
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order} 照片"


class Activity(models.Model):
    """志愿服务活动: a team's published activity with a time, a place and a capacity."""

    team = models.ForeignKey(Team, verbose_name="服务队", on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField("服务类别", max_length=20, choices=ServiceKind.choices)
    title = models.CharField("活动名称", max_length=100)
    description = models.CharField("活动内容", max_length=500, blank=True)
    place = models.CharField("活动地点", max_length=200)
    lat = models.FloatField("纬度", null=True, blank=True)
    lng = models.FloatField("经度", null=True, blank=True)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    capacity = models.PositiveIntegerField("招募人数")
    skills = models.CharField("所需特长", max_length=200, blank=True)
    published_at = models.DateTimeField("发布时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "志愿服务活动"
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Attendance(models.Model):
    """服务记录: one volunteer on one order or one activity: sign-in and sign-out (time and GPS),
    the hours, and their confirmation by the team leader (which earns points)."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name="志愿者", on_delete=models.PROTECT, related_name="attendances"
    )
    order = models.ForeignKey(
        Order,
        verbose_name="订单",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attendances",
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name="活动",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attendances",
    )
    created_at = models.DateTimeField("报名/派员时间", default=timezone.now)
    signed_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    in_lat = models.FloatField("签到纬度", null=True, blank=True)
    in_lng = models.FloatField("签到经度", null=True, blank=True)
    in_distance = models.FloatField("签到距离（米）", null=True, blank=True)
    far = models.BooleanField("签到位置偏远", default=False)
    signed_out_at = models.DateTimeField("签退时间", null=True, blank=True)
    out_lat = models.FloatField("签退纬度", null=True, blank=True)
    out_lng = models.FloatField("签退经度", null=True, blank=True)
    hours = models.DecimalField("服务时长（小时）", max_digits=5, decimal_places=2, null=True, blank=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = verbose_name_plural = "服务记录"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(order__isnull=False, activity__isnull=True)
                | Q(order__isnull=True, activity__isnull=False),
                name="attendance_one_target",
            ),
            models.UniqueConstraint(
                fields=["volunteer", "order"], condition=Q(order__isnull=False), name="attendance_order_once"
            ),
            models.UniqueConstraint(
                fields=["volunteer", "activity"],
                condition=Q(activity__isnull=False),
                name="attendance_activity_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.what}"

    @property
    def team_id(self) -> int | None:
        return self.order.team_id if self.order_id else self.activity.team_id  # type: ignore[union-attr]

    @property
    def kind(self) -> str:
        return self.order.service.kind if self.order_id else self.activity.kind  # type: ignore[union-attr]

    @property
    def what(self) -> str:
        return f"订单 {self.order.code}" if self.order_id else f"活动「{self.activity.title}」"  # type: ignore[union-attr]


class PointsRule(models.Model):
    """积分规则: points earned per confirmed hour of a kind of service (HQ configures them);
    the rule with no kind is the default."""

    kind = models.CharField("服务类别", max_length=20, choices=ServiceKind.choices, blank=True, unique=True)
    points_per_hour = models.PositiveIntegerField("每小时积分")

    class Meta:
        verbose_name = verbose_name_plural = "积分规则"
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display() or '默认'}：{self.points_per_hour} 分/小时"


class Goods(models.Model):
    """积分超市商品: goods redeemable for points, with stock."""

    name = models.CharField("名称", max_length=100)
    description = models.CharField("说明", max_length=300, blank=True)
    points = models.PositiveIntegerField("所需积分")
    stock = models.PositiveIntegerField("库存")
    is_active = models.BooleanField("上架", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "积分超市商品"
        ordering = ["points", "name"]
        constraints = [models.CheckConstraint(condition=Q(points__gt=0), name="goods_points_gt_0")]

    def __str__(self) -> str:
        return self.name


class Redemption(models.Model):
    """兑换单: goods redeemed for points, waiting for pick-up 待领取 until staff hand them over."""

    class Status(models.TextChoices):
        WAITING = "waiting", "待领取"
        PICKED_UP = "picked_up", "已领取"
        CANCELLED = "cancelled", "已取消"

    code = models.CharField("兑换码", max_length=CODE_LENGTH, unique=True, default=new_code)
    volunteer = models.ForeignKey(
        Volunteer, verbose_name="志愿者", on_delete=models.PROTECT, related_name="redemptions"
    )
    goods = models.ForeignKey(
        Goods, verbose_name="商品", on_delete=models.PROTECT, related_name="redemptions"
    )
    quantity = models.PositiveIntegerField("数量")
    points = models.PositiveIntegerField("积分")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField("兑换时间", default=timezone.now)
    closed_at = models.DateTimeField("领取/取消时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "兑换单"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.code} {self.goods} × {self.quantity}"


class PointsEntry(models.Model):
    """积分流水: one append-only line of a volunteer's points ledger. ``balance_after`` is the
    running balance; rows are never changed or deleted."""

    class Kind(models.TextChoices):
        EARN = "earn", "服务获得"
        REDEEM = "redeem", "兑换"
        REFUND = "refund", "兑换退回"
        ADJUST = "adjust", "调整"
        EXPIRE = "expire", "过期"

    volunteer = models.ForeignKey(
        Volunteer, verbose_name="志愿者", on_delete=models.PROTECT, related_name="points_entries"
    )
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    points = models.IntegerField("积分")
    balance_after = models.IntegerField("余额")
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    attendance = models.ForeignKey(
        Attendance, verbose_name="服务记录", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    redemption = models.ForeignKey(
        Redemption, verbose_name="兑换单", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    via = models.CharField("渠道", max_length=10, blank=True)
    reason = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "积分流水"
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="points_balance_after_gte_0"),
            # Hours earn points once.
            models.UniqueConstraint(
                fields=["attendance"], condition=Q(kind="earn"), name="points_earn_once_per_attendance"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.get_kind_display()} {self.points:+d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("积分流水只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("积分流水只能追加，不能删除")


class Event(models.Model):
    """环节记录: one step of an order, an activity, a volunteer's hours or points, or a redemption:
    who, as what, when, from where, why."""

    LABELS = {
        "order": "点单",
        "assign": "派单",
        "accept": "接单",
        "decline": "拒单",
        "staff": "派出队员",
        "sign_in": "签到",
        "sign_out": "签退",
        "complete": "完成服务",
        "rate": "评单",
        "publish": "发布活动",
        "enrol": "报名",
        "confirm_hours": "确认时长",
        "redeem": "兑换",
        "pickup": "领取",
        "cancel_redemption": "取消兑换",
        "adjust_points": "调整积分",
    }

    action = models.CharField("环节", max_length=30)
    order = models.ForeignKey(
        Order, verbose_name="订单", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    activity = models.ForeignKey(
        Activity, verbose_name="活动", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    volunteer = models.ForeignKey(
        Volunteer,
        verbose_name="志愿者",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    redemption = models.ForeignKey(
        Redemption,
        verbose_name="兑换单",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_role = models.CharField("身份", max_length=20, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    via = models.CharField("渠道", max_length=10)
    reason = models.CharField("说明", max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "环节记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.label} {self.at:%Y-%m-%d %H:%M}"

    @property
    def label(self) -> str:
        return self.LABELS.get(self.action, self.action)
