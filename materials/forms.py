"""Forms of the materials pages. They only read input; every rule is in the services."""

import datetime as dt

from django import forms
from django.utils import timezone

from indicators.models import Criterion, IndexSystem
from org.models import Unit

from . import services
from .filtersets import MonthField
from .models import DOCUMENT_TYPES, Card, Requirement

UNIT_KINDS = [
    (Unit.Kind.COMMUNITY_COMMITTEE, "全部社区居委会"),
    (Unit.Kind.VILLAGE_COMMITTEE, "全部村委会"),
    (Unit.Kind.STREET_OFFICE, "全部街道办事处"),
    (Unit.Kind.TOWNSHIP_GOVERNMENT, "全部乡镇人民政府"),
    (Unit.Kind.DEPARTMENT, "全部区级部门"),
]
DATE = forms.DateInput(attrs={"type": "date"})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,.pdf,.docx,.xlsx"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ReviewerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj}（{obj.username}）"


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


class MonthForm(forms.Form):
    month = MonthField(label="月份", required=False, widget=forms.TextInput(attrs={"type": "month"}))

    def chosen(self) -> dt.date:
        if self.is_valid() and self.cleaned_data["month"]:
            return self.cleaned_data["month"]
        return this_month()


class RequirementForm(forms.Form):
    title = forms.CharField(label="资料名称", max_length=200)
    criterion = forms.ModelChoiceField(
        label="对应测评标准（材料审核）", queryset=Criterion.objects.none(), required=False
    )
    description = forms.CharField(label="报送要求", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    needs_text = forms.BooleanField(label="需要文字说明", required=False, initial=True)
    min_photos = forms.IntegerField(label="至少照片数", min_value=0, max_value=30, initial=1)
    document_types = forms.MultipleChoiceField(
        label="需要的文档类型",
        choices=list(DOCUMENT_TYPES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    points = forms.DecimalField(label="分值", max_digits=6, decimal_places=2, min_value=0)
    due_date = forms.DateField(label="截止日期（留空为当月最后一个工作日）", required=False, widget=DATE)
    reviewer = ReviewerField(label="审核人", queryset=services.reviewers())
    units = forms.ModelMultipleChoiceField(
        label="报送单位",
        queryset=Unit.objects.filter(is_active=True),
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    template = forms.FileField(label="模板文件（DOCX/XLSX/PDF，可选）", required=False)

    def __init__(self, *args, month: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        system = IndexSystem.active(month.year)
        self.fields["criterion"].queryset = (  # type: ignore[attr-defined]
            Criterion.objects.filter(item__project__system=system, method=Criterion.Method.MATERIAL)
            if system
            else Criterion.objects.none()
        )
        self.fields["reviewer"].queryset = services.reviewers()  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, requirement: Requirement) -> dict:
        return {
            "title": requirement.title,
            "criterion": requirement.criterion_id,
            "description": requirement.description,
            "needs_text": requirement.needs_text,
            "min_photos": requirement.min_photos,
            "document_types": requirement.document_type_list,
            "points": requirement.points,
            "due_date": requirement.due_date,
            "reviewer": requirement.reviewer_id,
            "units": list(requirement.submissions.values_list("unit_id", flat=True)),
        }

    def spec(self) -> services.Spec:
        data = self.cleaned_data
        return services.Spec(
            title=data["title"],
            points=data["points"],
            reviewer=data["reviewer"],
            description=data["description"],
            needs_text=data["needs_text"],
            min_photos=data["min_photos"],
            document_types=data["document_types"],
            due_date=data["due_date"],
            criterion=data["criterion"],
        )


class GenerateForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label="报送单位",
        choices=UNIT_KINDS,
        widget=forms.CheckboxSelectMultiple,
        initial=[Unit.Kind.COMMUNITY_COMMITTEE],
    )
    reviewer = ReviewerField(label="审核人", queryset=services.reviewers())
    due_date = forms.DateField(label="截止日期（留空为当月最后一个工作日）", required=False, widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = services.reviewers()  # type: ignore[attr-defined]

    def units(self):
        return Unit.objects.filter(is_active=True, kind__in=self.cleaned_data["kinds"])


class DraftForm(forms.Form):
    text = forms.CharField(label="文字说明", widget=forms.Textarea(attrs={"rows": 6}), required=False)
    uploads = MultipleFileField(label="上传照片或文档")


class ScoreForm(forms.Form):
    score = forms.DecimalField(label="得分", max_digits=6, decimal_places=2)
    comment = forms.CharField(label="审核意见", max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReturnForm(forms.Form):
    reason = forms.CharField(label="退回原因", max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput)


class CardForm(forms.Form):
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.filter(is_active=True))
    month = MonthField(label="月份", widget=forms.TextInput(attrs={"type": "month"}))
    color = forms.ChoiceField(label="颜色", choices=Card.Color.choices)
    reason = forms.CharField(label="原因", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class RevokeForm(forms.Form):
    reason = forms.CharField(label="撤销原因", max_length=300)
