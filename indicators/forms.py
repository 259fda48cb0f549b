import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from org.forms import ImportForm
from org.models import Role, Unit, User
from workdays.periods import parse_month

from .models import IndexItem
from .services import Assignment


class SystemImportForm(ImportForm):
    name = forms.CharField(label="体系名称", max_length=100)
    version = forms.CharField(label="版本", max_length=30)
    campaign_year = forms.IntegerField(label="创建年度", min_value=2000, max_value=2100)
    note = forms.CharField(label="说明", max_length=200, required=False)

    field_order = ["name", "version", "campaign_year", "note", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign_year"].initial = timezone.localdate().year


def _people(*roles: str):
    return User.objects.filter(is_active=True, memberships__role__in=roles).distinct().order_by("username")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj}（{obj.username}）"


class AssignmentForm(forms.Form):
    """The decomposition fields of one task (分解): 牵头单位, 配合单位, 责任领导, 责任人, 时限, 验收标准."""

    title = forms.CharField(label="任务", max_length=300, required=False)
    lead_unit = forms.ModelChoiceField(label="牵头单位", queryset=Unit.objects.filter(is_active=True))
    co_units = forms.ModelMultipleChoiceField(
        label="配合单位", queryset=Unit.objects.filter(is_active=True), required=False
    )
    responsible_leader = PersonChoiceField(label="责任领导", queryset=_people(Role.LEADER), required=False)
    responsible_person = PersonChoiceField(
        label="责任人",
        queryset=_people(Role.HANDLER, Role.REPORT_CLERK),
        required=False,
        help_text="牵头单位的人员",
    )
    deadline = forms.DateField(
        label="完成时限", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    acceptance_standard = forms.CharField(
        label="验收标准", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_key = forms.BooleanField(label="挂牌督战", required=False)

    def assignment(self) -> Assignment:
        data = self.cleaned_data
        return Assignment(
            lead_unit=data["lead_unit"],
            co_units=list(data["co_units"]),
            responsible_leader=data["responsible_leader"],
            responsible_person=data["responsible_person"],
            deadline=data["deadline"],
            acceptance_standard=data["acceptance_standard"],
            is_key=data["is_key"],
        )


class BulkAssignForm(AssignmentForm):
    """批量分解: the chosen items get the fields that are filled in; empty fields stay as they are."""

    items = forms.ModelMultipleChoiceField(
        label="测评内容", queryset=IndexItem.objects.none(), widget=forms.SelectMultiple(attrs={"size": 12})
    )
    is_key = forms.TypedChoiceField(  # type: ignore[assignment]
        label="挂牌督战",
        choices=[("", "不变"), ("1", "是"), ("0", "否")],
        required=False,
        coerce=lambda v: v == "1",
        empty_value=None,
    )

    field_order = ["items"]

    def __init__(self, *args, system=None, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["title"]
        self.fields["lead_unit"].required = False
        items = IndexItem.objects.filter(project__system=system).select_related("project")
        self.fields["items"].queryset = items  # type: ignore[attr-defined]

    def assignment(self) -> Assignment:
        data = self.cleaned_data
        return Assignment(
            lead_unit=data["lead_unit"],
            co_units=list(data["co_units"]) or None,
            responsible_leader=data["responsible_leader"],
            responsible_person=data["responsible_person"],
            deadline=data["deadline"],
            acceptance_standard=data["acceptance_standard"] or None,
            is_key=data["is_key"],
        )


class MilestoneForm(forms.Form):
    month = forms.CharField(label="月份", widget=forms.DateInput(attrs={"type": "month"}), required=False)
    target = forms.IntegerField(label="目标进度(%)", min_value=0, max_value=100, required=False)
    description = forms.CharField(label="节点内容", max_length=200, required=False)

    def clean(self):
        data = super().clean() or {}
        month, target = data.get("month"), data.get("target")
        if month and target is None:
            self.add_error("target", "请填写目标进度")
        if month:
            try:
                data["month"] = dt.date(*parse_month(month), 1)
            except ValidationError as exc:
                self.add_error("month", exc.messages[0])
        return data


MilestoneFormSet = forms.formset_factory(MilestoneForm, extra=2)


def milestone_plan(formset) -> list[tuple[dt.date, int, str]]:
    return [
        (f.cleaned_data["month"], f.cleaned_data["target"], f.cleaned_data.get("description") or "")
        for f in formset.forms
        if f.cleaned_data.get("month")
    ]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,.pdf,.docx,.xlsx,.pptx"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class ProgressForm(forms.Form):
    percent = forms.IntegerField(label="完成进度(%)", min_value=0, max_value=100)
    text = forms.CharField(label="进展情况", widget=forms.Textarea(attrs={"rows": 3}))
    evidence = MultipleFileField(label="佐证材料（照片、PDF、Office 文档）", required=False)


class CloseOutForm(forms.Form):
    text = forms.CharField(label="完成情况", widget=forms.Textarea(attrs={"rows": 3}))
    evidence = MultipleFileField(label="佐证材料（必传）")


class NoteForm(forms.Form):
    note = forms.CharField(label="意见", max_length=300, required=False)


class ReopenForm(forms.Form):
    reason = forms.CharField(label="重新打开原因", max_length=300)
