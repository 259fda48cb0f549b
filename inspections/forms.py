"""Forms of the inspection pages. They only parse input; the services decide."""

import datetime as dt

from django import forms
from django.db.models import Q
from django.utils import timezone

from cases.models import Category
from org.models import Region, Role, Site, SiteType, User

from .models import CheckItem, Round
from .services import Line


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def _date(**attrs) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs})


class PlanForm(forms.Form):
    """计划轮次: sites by hand, or a random draw per type and street (or both)."""

    title = forms.CharField(label="名称", max_length=100)
    kind = forms.ChoiceField(label="类型", choices=Round.Kind.choices)
    starts_on = forms.DateField(label="开始日期", widget=_date())
    ends_on = forms.DateField(label="结束日期", widget=_date())
    inspectors = forms.ModelMultipleChoiceField(
        label="督查人员（督查员或包保领导）", queryset=User.objects.none()
    )
    sites = forms.ModelMultipleChoiceField(label="手选点位", queryset=Site.objects.none(), required=False)
    draw_kinds = forms.MultipleChoiceField(label="随机抽取：点位类型", required=False)
    draw_streets = forms.ModelMultipleChoiceField(
        label="随机抽取：街道/乡镇", queryset=Region.objects.none(), required=False
    )
    per_group = forms.IntegerField(label="每类每街道抽取", min_value=1, max_value=50, required=False)
    seed = forms.IntegerField(label="随机种子（留空自动生成）", min_value=1, max_value=2**53, required=False)
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.filter(
            is_active=True, memberships__role__in=(Role.INSPECTOR, Role.LEADER)
        ).distinct()
        self.fields["inspectors"].queryset = people.order_by("username")  # type: ignore[attr-defined]
        self.fields["sites"].queryset = Site.objects.filter(is_active=True).order_by("code")  # type: ignore[attr-defined]
        _choice_field(self, "draw_kinds").choices = list(
            SiteType.objects.filter(is_active=True).values_list("code", "name")
        )
        self.fields["draw_streets"].queryset = Region.objects.filter(  # type: ignore[attr-defined]
            Q(level=Region.Level.STREET) | Q(level=Region.Level.TOWNSHIP)
        ).order_by("code")
        today = timezone.localdate()
        self.initial.setdefault("starts_on", today)
        self.initial.setdefault("ends_on", today + dt.timedelta(days=6))

    def clean(self):
        data = super().clean() or {}
        kinds, streets = data.get("draw_kinds"), data.get("draw_streets")
        if (kinds or streets) and not (kinds and streets and data.get("per_group")):
            raise forms.ValidationError("随机抽取须同时选择点位类型、街道和每组数量")
        return data


class CheckItemForm(forms.ModelForm):
    class Meta:
        model = CheckItem
        fields = ["text", "points", "rule", "unit_deduction", "cap", "photo_required", "category"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.staff_selectable()  # type: ignore[attr-defined]


class BuildChecklistForm(forms.Form):
    site_kind = forms.ChoiceField(label="点位类型")
    criteria = forms.MultipleChoiceField(label="实地考察标准", widget=forms.CheckboxSelectMultiple)
    name = forms.CharField(label="名称（可留空）", max_length=100, required=False)

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        _choice_field(self, "site_kind").choices = list(
            SiteType.objects.filter(is_active=True).values_list("code", "name")
        )
        _choice_field(self, "criteria").choices = [
            (c.pk, f"{c.code} {c.text[:60]}（{c.points} 分）") for c in criteria
        ]


class ChecklistImportForm(forms.Form):
    file = forms.FileField(label="测评表 XLSX")


class ToCaseForm(forms.Form):
    category = forms.ModelChoiceField(
        label="案件类别（检查项未指定时必选）", queryset=Category.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.staff_selectable()  # type: ignore[attr-defined]


def parse_submission(data, files, items, pending) -> tuple[list, dict[int, bool]]:
    """The checklist lines and 复查 verdicts of a submitted phone form (or API form data):
    ``result_<item>`` (pass/fail/na), ``occ_<item>``, ``ded_<item>``, ``note_<item>``, photos
    ``photo_<item>``; ``recheck_<finding>`` (yes/no). Lines left unmarked are left out, so the
    service names what is missing."""
    lines = []
    for item in items:
        result = data.get(f"result_{item.pk}")
        if not result:
            continue
        try:
            occurrences = int(data.get(f"occ_{item.pk}") or 1)
        except ValueError as exc:
            raise forms.ValidationError(f"检查项 {item.code} 的问题处数无效") from exc
        lines.append(
            Line(
                item_id=item.pk,
                result=result,
                occurrences=occurrences,
                deduction=data.get(f"ded_{item.pk}") or None,
                note=data.get(f"note_{item.pk}", ""),
                photos=files.getlist(f"photo_{item.pk}") if result == "fail" else [],
            )
        )
    rechecks = {}
    for finding in pending:
        verdict = data.get(f"recheck_{finding.pk}")
        if verdict in ("yes", "no"):
            rechecks[finding.pk] = verdict == "yes"
    return lines, rechecks
