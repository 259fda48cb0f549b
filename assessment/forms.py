from django import forms

from org.models import Unit

from .models import Accountability, Component, PeriodKind, Scheme
from .services import RANKED_KINDS


class SchemeForm(forms.Form):
    name = forms.CharField(label="方案名称", max_length=100)
    period_kind = forms.ChoiceField(label="周期", choices=PeriodKind.choices)
    unit_kinds = forms.MultipleChoiceField(
        label="参评单位类型（同类单位一起排名）",
        choices=[(k, Unit.Kind(k).label) for k in RANKED_KINDS],
        widget=forms.CheckboxSelectMultiple,
    )
    no_data = forms.ChoiceField(label="无数据规则", choices=Scheme.NoData.choices)
    list_size = forms.IntegerField(label="红黑榜人数", min_value=1, max_value=50, initial=3)
    is_active = forms.BooleanField(
        label="定期自动计算（每期结束后自动生成草稿）", required=False, initial=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in Component.Kind.choices:
            self.fields[f"w_{kind}"] = forms.IntegerField(
                label=f"{label} 权重", min_value=0, max_value=100, initial=0, required=False
            )

    def weights(self) -> dict[str, int]:
        return {kind: self.cleaned_data.get(f"w_{kind}") or 0 for kind in Component.Kind.values}


class ComputeForm(forms.Form):
    day = forms.DateField(label="期内任一日", widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.DateTimeField(
        label="数据截至 T（留空为现在）",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class CircularForm(forms.Form):
    title = forms.CharField(label="标题", max_length=100)
    body = forms.CharField(label="正文", max_length=4000, widget=forms.Textarea(attrs={"rows": 6}))


class AccountabilityForm(forms.Form):
    unit = forms.TypedChoiceField(label="单位", coerce=int)
    kind = forms.ChoiceField(label="类型", choices=Accountability.Kind.choices)
    person = forms.CharField(label="对象（人员，可空）", max_length=50, required=False)
    reason = forms.CharField(label="事由", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    statement = forms.CharField(
        label="公开陈述和承诺", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    follow_up_on = forms.DateField(label="跟踪复查日期", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, u.name) for u in units]  # type: ignore[attr-defined]


class CorrectForm(forms.Form):
    reason = forms.CharField(label="更正原因", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    at = forms.DateTimeField(
        label="数据截至 T（留空为现在）",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class BonusForm(forms.Form):
    scheme = forms.ModelChoiceField(
        label="考评方案", queryset=Scheme.objects.filter(components__kind=Component.Kind.BONUS)
    )
    day = forms.DateField(label="期内任一日", widget=forms.DateInput(attrs={"type": "date"}))
    unit = forms.ModelChoiceField(
        label="单位", queryset=Unit.objects.filter(kind__in=RANKED_KINDS, is_active=True).order_by("code")
    )
    points = forms.DecimalField(label="分值（正为加分，负为减分）", max_digits=5, decimal_places=2)
    reason = forms.CharField(label="事由", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    evidence_text = forms.CharField(
        label="佐证说明", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_file = forms.FileField(label="佐证文件（照片、PDF、Word、Excel）", required=False)
