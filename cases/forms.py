"""Forms of the case pages. They check input shape only; every rule lives in ``cases.services``."""

import datetime as dt

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from org.models import Region, Unit

from . import metrics, summary
from .models import Case, Category


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one ``<input type=file multiple>`` (the services validate the content)."""

    widget = MultiplePhotoInput(attrs={"accept": "image/*", "capture": "environment", "multiple": True})

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def category_choices() -> list:
    """The categories staff may choose, grouped by major class (部件/事件 大类 → 小类) for an
    optgrouped select."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for c in Category.objects.staff_selectable().order_by("kind", "major_code", "code"):
        label = f"{c.get_kind_display()} · {c.major_name}"
        groups.setdefault(label, []).append((c.pk, f"{c.code} {c.name}"))
    return [("", "请选择问题类别"), *groups.items()]


class ReportForm(forms.Form):
    """上报: what, where (GPS or a map pick), and photos of the problem."""

    category = forms.ModelChoiceField(
        label="问题类别", queryset=Category.objects.staff_selectable(), empty_label="请选择问题类别"
    )
    description = forms.CharField(label="问题描述", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    address = forms.CharField(label="地址", max_length=200, required=False)
    lat = forms.DecimalField(label="纬度", max_digits=9, decimal_places=6, min_value=-90, max_value=90)
    lng = forms.DecimalField(label="经度", max_digits=9, decimal_places=6, min_value=-180, max_value=180)
    urgent = forms.BooleanField(label="紧急", required=False)
    photos = PhotosField(label="现场照片", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].widget.choices = category_choices()
        for name in ("lat", "lng"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "0.000001"})


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ReclassifyForm(forms.Form):
    """改类: the right category for a case not yet dispatched, with the reason."""

    category = forms.ModelChoiceField(label="正确类别", queryset=Category.objects.staff_selectable())
    reason = forms.CharField(label="理由", max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].widget.choices = category_choices()


class NoteForm(forms.Form):
    note = forms.CharField(
        label="说明", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )


class MergeForm(forms.Form):
    into = forms.CharField(label="合并至案件编号", max_length=16)
    reason = forms.CharField(label="说明", max_length=2000, required=False)

    def clean_into(self):
        """The case of that number, or None (the service refuses a target that is none or hidden)."""
        return Case.objects.filter(number=self.cleaned_data["into"].strip()).first()


class DispatchForm(forms.Form):
    """派单: the lead unit (the routing suggestion preselected) and co-units for a joint case."""

    lead_unit = forms.ModelChoiceField(label="主办单位", queryset=Unit.objects.none(), empty_label="请选择")
    co_units = forms.ModelMultipleChoiceField(
        label="配合单位（吹哨报到）", queryset=Unit.objects.none(), required=False
    )
    note = forms.CharField(label="派单说明", max_length=2000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        units = Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.HQ).order_by("kind", "code")
        self.fields["lead_unit"].queryset = units
        self.fields["co_units"].queryset = units
        self.fields["co_units"].widget.attrs["size"] = 4


class HandleForm(forms.Form):
    """处置完成: the after-photo is required (the service checks it too)."""

    photos = PhotosField(label="处置后照片")
    note = forms.CharField(
        label="处置说明", widget=forms.Textarea(attrs={"rows": 2}), max_length=500, required=False
    )


class ExtensionForm(forms.Form):
    days = forms.IntegerField(label="延期工作日", min_value=1, max_value=99)
    reason = forms.CharField(label="延期理由", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class DecideExtensionForm(forms.Form):
    request = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        choices=[("1", "批准"), ("0", "驳回")], coerce=lambda v: v == "1", widget=forms.HiddenInput
    )
    note = forms.CharField(label="审批意见", max_length=300, required=False)


class CaseFilterForm(forms.Form):
    """The filters of the case list, its export, and the links behind every summary figure."""

    STATE_CHOICES = [
        ("", "全部"),
        ("open", "未结案"),
        ("overdue", "已超期"),
        ("due_soon", "即将到期"),
        ("reworked", "有返工"),
    ]

    q = forms.CharField(label="编号/地址", required=False)
    status = forms.ChoiceField(label="状态", choices=[("", "全部状态"), *Case.Status.choices], required=False)
    state = forms.ChoiceField(label="时限", choices=STATE_CHOICES, required=False)
    unit = forms.ModelChoiceField(
        label="责任单位",
        queryset=Unit.objects.order_by("kind", "code"),
        required=False,
        empty_label="全部单位",
    )
    region = forms.ModelChoiceField(
        label="区域", queryset=Region.objects.order_by("path"), required=False, empty_label="全部区域"
    )
    category = forms.ModelChoiceField(
        label="类别",
        queryset=Category.objects.order_by("kind", "code"),
        required=False,
        empty_label="全部类别",
    )
    major = forms.RegexField(regex=r"^(component|event):\w{1,8}$", required=False, widget=forms.HiddenInput)
    date_field = forms.ChoiceField(
        label="日期",
        choices=[
            ("reported", "上报时间"),
            ("accepted", "立案时间"),
            ("handled", "处置完成时间"),
            ("closed", "结案时间"),
        ],
        required=False,
    )
    start = forms.DateField(label="从", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="到", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    # The cases behind one figure of the monthly summary or of the metrics page.
    month = forms.RegexField(regex=r"^20\d\d-(0[1-9]|1[0-2])$", required=False, widget=forms.HiddenInput)
    at = forms.DateTimeField(required=False, widget=forms.HiddenInput)
    summary = forms.ChoiceField(
        choices=[("", ""), *summary.FIGURES.items()], required=False, widget=forms.HiddenInput
    )
    metric = forms.ChoiceField(
        choices=[("", ""), *((k, m.label) for k, m in metrics.METRICS.items())],
        required=False,
        widget=forms.HiddenInput,
    )
    side = forms.ChoiceField(
        choices=[("numerator", "分子"), ("denominator", "分母")], required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, scope=None, **kwargs):
        super().__init__(*args, **kwargs)
        if scope is not None and not scope.everything:
            # The menus offer the person's own units and regions; any unit or region is accepted,
            # because the cases are limited to the scope anyway and a summary row may name a
            # department that worked on cases in a leader's area.
            self.fields["unit"].widget.choices = self._choices(
                "全部单位", scope.units().order_by("kind", "code")
            )
            self.fields["region"].widget.choices = self._choices("全部区域", scope.regions().order_by("path"))
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", field.label or "")
        self.fields["q"].widget.attrs["placeholder"] = "编号、地址或描述"

    @staticmethod
    def _choices(empty: str, qs: QuerySet) -> list[tuple]:
        return [("", empty), *((obj.pk, str(obj)) for obj in qs)]

    def date_range(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The chosen dates as local-midnight moments, the end exclusive (the day after ``end``)."""
        tz = timezone.get_current_timezone()
        start, end = self.cleaned_data.get("start"), self.cleaned_data.get("end")
        lo = dt.datetime.combine(start, dt.time.min, tz) if start else None
        hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tz) if end else None
        return lo, hi

    def filter(self, qs: QuerySet[Case]) -> QuerySet[Case]:
        """Apply the (valid) filters to a queryset of cases already limited to the person's scope."""
        data = self.cleaned_data if self.is_valid() else {}
        if q := (data.get("q") or "").strip():
            qs = qs.filter(Q(number__startswith=q) | Q(address__contains=q) | Q(description__contains=q))
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        state = data.get("state")
        if state == "open":
            qs = qs.open()
        elif state == "overdue":
            qs = qs.overdue()
        elif state == "due_soon":
            qs = qs.due_soon()
        elif state == "reworked":
            qs = qs.filter(rework_count__gt=0)
        if data.get("summary") or data.get("metric"):
            # A figure's own definition decides the cases; its unit, region and category are
            # part of it (a unit's reports are its people's, for instance), so they go there.
            return self._figure(qs, data)
        if unit := data.get("unit"):
            # Leads it or holds a part of it: one seek in the unit's part index (``of_unit``).
            qs = qs.of_unit(unit.pk)
        if region := data.get("region"):
            qs = qs.filter(region__path__startswith=region.path)
        if data.get("category"):
            qs = qs.filter(category=data["category"])
        if major := data.get("major"):
            kind, code = major.split(":", 1)
            qs = qs.filter(category__kind=kind, category__major_code=code)
        return self._dates(qs, data)

    def _dates(self, qs: QuerySet[Case], data: dict) -> QuerySet[Case]:
        lo, hi = self.date_range() if data else (None, None)
        field = f"{data.get('date_field') or 'reported'}_at"
        if lo:
            qs = qs.filter(**{f"{field}__gte": lo})
        if hi:
            qs = qs.filter(**{f"{field}__lt": hi})
        return qs

    def selection(self, viewer=None) -> metrics.Selection:
        """The period (``month``, default this month), moment and scope the figure filters name."""
        data = self.cleaned_data if self.is_valid() else {}
        today = timezone.localdate()
        year, number = (
            (int(x) for x in data["month"].split("-")) if data.get("month") else (today.year, today.month)
        )
        start, end, at = summary.period(year, number)
        return metrics.select(
            start,
            end,
            at=data.get("at") or at,
            unit=data.get("unit"),
            region=data.get("region"),
            category=data.get("category"),
            viewer=viewer,
        )

    def _figure(self, qs: QuerySet[Case], data: dict) -> QuerySet[Case]:
        """The cases behind the figure, among those of ``qs`` (the person's, already filtered)."""
        selection = self.selection()
        if data.get("summary"):
            figure = summary.cases_behind(selection, data["summary"])
        else:
            figure = metrics.behind(selection, data["metric"], data.get("side") or "numerator")
        return self._dates(qs.filter(pk__in=figure.values("pk")), data)
