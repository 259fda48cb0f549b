"""Street chiefs and grids 街巷长与网格: the 365 patrol duty roster 巡查排班, patrols with their GPS
track and segment check-ins, 六必报 reports and 六必到 visits."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models import Case
from org.models import Grid, Region, StreetSegment, Unit


class Duty(models.Model):
    """巡查排班: one person patrols one street segment or one grid on one day, for a unit."""

    unit = models.ForeignKey(
        Unit, verbose_name="责任单位", on_delete=models.CASCADE, related_name="patrol_duties"
    )
    day = models.DateField("日期", db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="巡查人",
        on_delete=models.CASCADE,
        related_name="patrol_duties",
    )
    segment = models.ForeignKey(
        StreetSegment,
        verbose_name="街巷",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="duties",
    )
    grid = models.ForeignKey(
        Grid, verbose_name="网格", null=True, blank=True, on_delete=models.CASCADE, related_name="duties"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="排班人",
    )
    created_at = models.DateTimeField("排班时间")

    class Meta:
        verbose_name = verbose_name_plural = "巡查排班"
        ordering = ["day", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(segment__isnull=False, grid__isnull=True)
                | Q(segment__isnull=True, grid__isnull=False),
                name="duty_one_place",
            ),
            models.UniqueConstraint(fields=["day", "user", "segment"], name="duty_unique_segment"),
            models.UniqueConstraint(fields=["day", "user", "grid"], name="duty_unique_grid"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.user} · {self.segment or self.grid}"

    @property
    def place(self):
        return self.segment or self.grid


class Patrol(models.Model):
    """巡查: one round on foot, started and ended on a phone, with its track and check-ins."""

    class Status(models.TextChoices):
        OPEN = "open", "巡查中"
        ENDED = "ended", "已结束"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="巡查人", on_delete=models.PROTECT, related_name="patrols"
    )
    day = models.DateField("日期", db_index=True)
    status = models.CharField("状态", max_length=8, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField("开始时间")
    start_lat = models.DecimalField("开始纬度", max_digits=9, decimal_places=6)
    start_lng = models.DecimalField("开始经度", max_digits=9, decimal_places=6)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    end_lat = models.DecimalField("结束纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    end_lng = models.DecimalField("结束经度", max_digits=9, decimal_places=6, null=True, blank=True)
    # Flags for the reviewer: patrolling without a duty that day is allowed but shown.
    off_roster = models.BooleanField("未排班巡查", default=False)
    jumps = models.PositiveIntegerField("异常轨迹点", default=0)
    distance_m = models.FloatField("里程（米）", default=0)
    summary = models.JSONField("小结", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "巡查"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.day}"


class TrackPoint(models.Model):
    """轨迹点: a GPS fix taken while the patrol page is open; ``jump`` marks an impossible speed."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="points")
    at = models.DateTimeField("时间")
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6)
    jump = models.BooleanField("异常跳变", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "轨迹点"
        ordering = ["at", "pk"]
        constraints = [models.UniqueConstraint(fields=["patrol", "at"], name="trackpoint_unique_time")]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} ({self.lat}, {self.lng})"


class CheckIn(models.Model):
    """街巷签到: the patroller was on a segment (point inside its region)."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="checkins")
    segment = models.ForeignKey(
        StreetSegment, verbose_name="街巷", on_delete=models.PROTECT, related_name="checkins"
    )
    at = models.DateTimeField("签到时间")
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6)

    class Meta:
        verbose_name = verbose_name_plural = "街巷签到"
        ordering = ["at"]
        constraints = [models.UniqueConstraint(fields=["patrol", "segment"], name="checkin_once_per_patrol")]

    def __str__(self) -> str:
        return f"{self.segment} {self.at:%Y-%m-%d %H:%M}"


class Report(models.Model):
    """六必报: what a chief must report. City problems become cases; social matters go to the
    community's own list, with personal data shown masked."""

    class Kind(models.TextChoices):
        LITTER = "litter", "乱扔乱倒垃圾"
        FACILITY = "facility", "公共设施损坏"
        NEWCOMER = "newcomer", "新迁入人员"
        HARDSHIP = "hardship", "重病或困难居民"
        HAZARD = "hazard", "安全隐患"
        INSTABILITY = "instability", "不稳定因素"

    CITY_KINDS = (Kind.LITTER, Kind.FACILITY, Kind.HAZARD)
    SOCIAL_KINDS = (Kind.NEWCOMER, Kind.HARDSHIP, Kind.INSTABILITY)

    patrol = models.ForeignKey(Patrol, on_delete=models.PROTECT, related_name="reports")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        on_delete=models.PROTECT,
        related_name="street_reports",
    )
    reported_at = models.DateTimeField("报告时间")
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6)
    description = models.TextField("情况说明")
    case = models.OneToOneField(
        Case,
        verbose_name="案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="street_report",
    )
    # Social reports: the community they belong to, and the person concerned (personal data).
    community = models.ForeignKey(
        Region, verbose_name="所属社区", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    person_name = models.CharField("当事人姓名", max_length=50, blank=True)
    person_phone = models.CharField("当事人电话", max_length=20, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "六必报"
        ordering = ["-reported_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reported_at:%Y-%m-%d}"

    @property
    def is_social(self) -> bool:
        return self.kind in self.SOCIAL_KINDS


class Visit(models.Model):
    """六必到: the chief attended one of the six occasions (place, time, note)."""

    class Kind(models.TextChoices):
        EMERGENCY = "emergency", "突发事件"
        DISPUTE = "dispute", "邻里纠纷"
        MUTUAL_AID = "mutual_aid", "邻里互助"
        WORRY = "worry", "居民急难愁盼"
        VOLUNTEER = "volunteer", "社区志愿服务"
        FUNERAL_WEDDING = "family_event", "居民红白喜事"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="街巷长",
        on_delete=models.PROTECT,
        related_name="street_visits",
    )
    patrol = models.ForeignKey(Patrol, null=True, blank=True, on_delete=models.PROTECT, related_name="visits")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    place = models.CharField("地点", max_length=200)
    at = models.DateTimeField("时间")
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    note = models.CharField("情况记录", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "六必到"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.place}"


class JointAction(models.Model):
    """集中联合执法: a street office (monthly) or a community (weekly) "blows the whistle" 吹哨 and
    plans a day of joint enforcement at a place; the units summoned from the "5+3" forces sign in
    there 报到, one of them leading 举旗子; the findings become cases or are handled on the spot."""

    organiser = models.ForeignKey(
        Unit, verbose_name="组织单位", on_delete=models.PROTECT, related_name="joint_actions"
    )
    title = models.CharField("行动名称", max_length=100)
    day = models.DateField("日期", db_index=True)
    start_time = models.TimeField("集合时间")
    place = models.CharField("集合地点", max_length=200)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6)
    lead_unit = models.ForeignKey(
        Unit, verbose_name="牵头单位（举旗子）", on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("行动内容", max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("发起时间")

    class Meta:
        verbose_name = verbose_name_plural = "集中联合执法"
        ordering = ["-day", "-start_time", "-pk"]

    def __str__(self) -> str:
        return f"{self.day} {self.title}"


class JointSummons(models.Model):
    """召集与报到: one unit summoned to a joint action, and its sign-in 签到 (who, when, where;
    far from the place it is flagged, not refused). Not signed in by the end of the day: a no-show."""

    action = models.ForeignKey(JointAction, on_delete=models.CASCADE, related_name="summons")
    unit = models.ForeignKey(Unit, verbose_name="被召集单位", on_delete=models.PROTECT, related_name="+")
    signed_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    signed_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="签到人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lat = models.DecimalField("签到纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField("签到经度", max_digits=9, decimal_places=6, null=True, blank=True)
    distance_m = models.FloatField("距集合地点（米）", null=True, blank=True)
    far = models.BooleanField("签到位置偏远", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "联合执法召集"
        ordering = ["action", "pk"]
        constraints = [models.UniqueConstraint(fields=["action", "unit"], name="jointsummons_once")]

    def __str__(self) -> str:
        return f"{self.action} · {self.unit}"


class JointFinding(models.Model):
    """联合执法发现的问题: it became a case (through the case intake), or was handled on the spot
    现场处置 by a summoned unit, with a photo."""

    class Outcome(models.TextChoices):
        CASE = "case", "转为案件"
        ON_SPOT = "on_spot", "现场处置"

    action = models.ForeignKey(JointAction, on_delete=models.PROTECT, related_name="findings")
    outcome = models.CharField("处理方式", max_length=8, choices=Outcome.choices)
    description = models.TextField("问题描述")
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6)
    lng = models.DecimalField("经度", max_digits=9, decimal_places=6)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间")
    case = models.OneToOneField(
        Case,
        verbose_name="案件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="joint_finding",
    )
    unit = models.ForeignKey(
        Unit, verbose_name="现场处置单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The on-the-spot photo: the original (with EXIF) private, a stripped copy and a thumbnail.
    photo_original = models.FileField("原图", max_length=200, blank=True)
    photo = models.FileField("现场处置照片", max_length=200, blank=True)
    photo_thumbnail = models.FileField("缩略图", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "联合执法发现问题"
        ordering = ["recorded_at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.get_outcome_display()}"


class ServiceTeam(models.Model):
    """街巷服务队: one of the three service teams 市容, 环卫, 市政 named on the public street signs
    街巷长联系牌. A team serves a region (a street or a community); a segment shows, for each kind,
    the team of its own region or of the nearest region above it."""

    class Kind(models.TextChoices):
        CITY_APPEARANCE = "appearance", "市容"
        SANITATION = "sanitation", "环卫"
        MUNICIPAL = "municipal", "市政"

    region = models.ForeignKey(
        Region, verbose_name="服务区域", on_delete=models.CASCADE, related_name="service_teams"
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    name = models.CharField("队伍名称", max_length=100)
    leader = models.CharField("负责人", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=20)
    # Dialled after the district's switchboard number (``STREETS_SIGN_CALL_NUMBER``), so the sign
    # never shows the team's own number in full.
    extension = models.CharField("转接分机号", max_length=10, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "街巷服务队"
        ordering = ["region", "kind"]
        constraints = [models.UniqueConstraint(fields=["region", "kind"], name="serviceteam_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.region} {self.get_kind_display()} {self.name}"
