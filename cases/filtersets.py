"""The one filter of the case list 案件查询: used by the list page, its XLSX export, the API list,
the map and the lists behind every figure of the monthly summary and the metrics.

Meanings (the same everywhere):
- ``q``: case number (prefix), address or description (contains);
- ``status``: one or several states; ``state``: open, overdue, due soon (less than
  ``due_soon_hours`` working hours left, default ``WORKDAY_DUE_SOON_HOURS``), reworked at least once;
- ``unit``: the cases the unit leads or holds a part of (also a part it returned);
- ``region``: the region's subtree; ``category``; ``major``: a major category ``kind:code``;
- ``date_field`` with ``start``/``end`` (days, both included): reported, accepted, handled or
  closed in that range;
- ``month``, ``at``, ``summary`` | ``metric`` with ``side``: the cases behind one figure of that
  month as of ``at``; the unit, region and category then narrow the figure itself.
The caller passes a queryset already limited to the person's scope (``Case.objects.visible_to``).
"""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from org.filters import ListFilterSet
from org.models import Region, Unit, User
from workdays.periods import aware, day_range, parse_month

from . import metrics, monthly_summary
from .models import Case, CaseQuerySet, Category

MAX_DUE_SOON_HOURS = 24 * 31


class StatusSelect(forms.Select):
    """A single menu on the page that also reads ``status=a&status=b`` (the API's several)."""

    allow_multiple_selected = True

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].pop("multiple", None)
        return context


class CaseFilterSet(ListFilterSet):
    STATE_CHOICES = [
        ("open", "未结案"),
        ("overdue", "已超期"),
        ("due_soon", "即将到期"),
        ("reworked", "有返工"),
    ]
    DATE_FIELDS = [
        ("reported", "上报时间"),
        ("accepted", "立案时间"),
        ("handled", "处置完成时间"),
        ("closed", "结案时间"),
    ]

    q = django_filters.CharFilter(label="编号/地址", max_length=100, method="_whole")
    status = django_filters.MultipleChoiceFilter(
        label="状态", choices=[("", "全部状态"), *Case.Status.choices], widget=StatusSelect, method="_whole"
    )
    state = django_filters.ChoiceFilter(
        label="时限", choices=STATE_CHOICES, empty_label="全部", method="_whole"
    )
    due_soon_hours = django_filters.NumberFilter(
        label="即将到期（工作时）",
        min_value=1,
        max_value=MAX_DUE_SOON_HOURS,
        widget=forms.HiddenInput,
        method="_whole",
    )
    unit = django_filters.ModelChoiceFilter(
        label="责任单位",
        queryset=Unit.objects.order_by("kind", "code"),
        empty_label="全部单位",
        method="_whole",
    )
    region = django_filters.ModelChoiceFilter(
        label="区域", queryset=Region.objects.order_by("path"), empty_label="全部区域", method="_whole"
    )
    category = django_filters.ModelChoiceFilter(
        label="类别",
        queryset=Category.objects.order_by("kind", "code"),
        empty_label="全部类别",
        method="_whole",
    )
    major = django_filters.CharFilter(widget=forms.HiddenInput, method="_whole")
    date_field = django_filters.ChoiceFilter(
        label="日期", choices=DATE_FIELDS, empty_label=None, method="_whole"
    )
    start = django_filters.DateFilter(
        label="从", widget=forms.DateInput(attrs={"type": "date"}), method="_whole"
    )
    end = django_filters.DateFilter(
        label="到", widget=forms.DateInput(attrs={"type": "date"}), method="_whole"
    )
    # The cases behind one figure of the monthly summary or of the metrics page.
    month = django_filters.CharFilter(widget=forms.HiddenInput, method="_whole")
    at = django_filters.IsoDateTimeFilter(widget=forms.HiddenInput, method="_whole")
    summary = django_filters.ChoiceFilter(
        choices=list(monthly_summary.FIGURES.items()), widget=forms.HiddenInput, method="_whole"
    )
    metric = django_filters.ChoiceFilter(
        choices=[(k, m.label) for k, m in metrics.METRICS.items()], widget=forms.HiddenInput, method="_whole"
    )
    side = django_filters.ChoiceFilter(
        choices=[("numerator", "分子"), ("denominator", "分母")], widget=forms.HiddenInput, method="_whole"
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, scope=None, **kwargs):
        super().__init__(data, queryset, **kwargs)
        form = self.form
        if scope is not None and not scope.everything:
            # The menus offer the person's own units and regions; any unit or region is accepted,
            # because the cases are limited to the scope anyway and a summary row may name a
            # department that worked on cases in a leader's area.
            form.fields["unit"].widget.choices = _choices("全部单位", scope.units().order_by("kind", "code"))
            form.fields["region"].widget.choices = _choices("全部区域", scope.regions().order_by("path"))
        form.fields["q"].widget.attrs["placeholder"] = "编号、地址或描述"
        form.clean = self._clean_form  # type: ignore[method-assign]

    @staticmethod
    def _whole(qs, name, value):
        """Each filter is applied by ``filter_queryset`` as a whole (their meanings interlock)."""
        return qs

    def _clean_form(self) -> dict:
        data = self.form.cleaned_data
        try:
            if data.get("month"):
                parse_month(data["month"])
            if data.get("at"):
                data["at"] = aware(data["at"])
            day_range(data.get("start"), data.get("end"))
            if major := data.get("major"):
                kind, _, code = major.partition(":")
                if kind not in ("component", "event") or not code.isalnum() or len(code) > 8:
                    raise ValidationError("大类应为“component:编码”或“event:编码”")
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return data

    def check(self) -> None:
        """Raise ``ValidationError`` naming each bad filter (the API's 400)."""
        if not self.is_valid():
            fields = self.form.fields
            raise ValidationError(
                [
                    f"{fields[name].label or name}：{e}" if name in fields else str(e)
                    for name, errors in self.form.errors.items()
                    for e in errors
                ]
            )

    @property
    def data_used(self) -> dict:
        return self.form.cleaned_data if self.is_valid() else {}

    def filter_queryset(self, queryset: CaseQuerySet) -> CaseQuerySet:
        """The cases the (valid) filters name; invalid filters filter nothing (the page shows why,
        the API refuses with ``check``)."""
        data = self.data_used
        qs = queryset
        if q := (data.get("q") or "").strip():
            qs = qs.filter(Q(number__startswith=q) | Q(address__contains=q) | Q(description__contains=q))
        statuses = [s for s in data.get("status") or [] if s]
        if statuses:
            qs = qs.filter(status__in=statuses)
        state = data.get("state")
        if state == "open":
            qs = qs.open()
        elif state == "overdue":
            qs = qs.overdue()
        elif state == "due_soon":
            qs = qs.due_soon(hours=float(data["due_soon_hours"]) if data.get("due_soon_hours") else None)
        elif state == "reworked":
            qs = qs.filter(rework_count__gt=0)
        if data.get("summary") or data.get("metric"):
            # A figure's own definition decides the cases; its unit, region and category are
            # part of it (a unit's reports are its people's, for instance), so they go there.
            figure = (
                monthly_summary.cases_behind(self.selection(), data["summary"])
                if data.get("summary")
                else metrics.behind(self.selection(), data["metric"], data.get("side") or "numerator")
            )
            return self._dates(qs.filter(pk__in=figure.values("pk")), data)
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

    def date_range(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The chosen days as local-midnight moments, the end exclusive (the day after ``end``)."""
        data = self.data_used
        return day_range(data.get("start"), data.get("end"))

    def _dates(self, qs: CaseQuerySet, data: dict) -> CaseQuerySet:
        lo, hi = self.date_range()
        field = f"{data.get('date_field') or 'reported'}_at"
        if lo:
            qs = qs.filter(**{f"{field}__gte": lo})
        if hi:
            qs = qs.filter(**{f"{field}__lt": hi})
        return qs

    def selection(self, viewer: User | None = None) -> metrics.Selection:
        """The period (``month``, default this month), moment and scope the figure filters name."""
        data = self.data_used
        today = timezone.localdate()
        year, number = parse_month(data["month"]) if data.get("month") else (today.year, today.month)
        start, end, at = monthly_summary.period(year, number)
        return metrics.select(
            start,
            end,
            at=data.get("at") or at,
            unit=data.get("unit"),
            region=data.get("region"),
            category=data.get("category"),
            viewer=viewer,
        )


def _choices(empty: str, qs: QuerySet) -> list[tuple]:
    return [("", empty), *((obj.pk, str(obj)) for obj in qs)]
