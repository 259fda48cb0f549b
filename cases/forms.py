"""Forms of the case pages. They check input shape only; every rule lives in ``cases.services``."""

from typing import cast

from django import forms

from org.models import Unit

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

    @staticmethod
    def unit_choices():
        """The units a case may go to (the service refuses others: HQ, inactive units)."""
        return Unit.objects.filter(is_active=True).exclude(kind=Unit.Kind.HQ).order_by("kind", "code")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        units = self.unit_choices()
        cast(forms.ModelChoiceField, self.fields["lead_unit"]).queryset = units
        cast(forms.ModelMultipleChoiceField, self.fields["co_units"]).queryset = units
        self.fields["co_units"].widget.attrs["size"] = 4


class HandleForm(forms.Form):
    """处置完成: the after-photo is required (the service checks it too)."""

    photos = PhotosField(label="处置后照片")
    note = forms.CharField(
        label="处置说明", widget=forms.Textarea(attrs={"rows": 2}), max_length=500, required=False
    )


class ExtensionForm(forms.Form):
    """Working days, or hours (an urgent part: clock hours; the working-hours clock: working
    hours); the service says which the part takes."""

    days = forms.IntegerField(label="延期工作日", min_value=1, max_value=99, required=False)
    hours = forms.IntegerField(
        label="或延期小时",
        min_value=1,
        max_value=999,
        required=False,
        help_text="紧急案件按小时申请；按法定日计时的案件只能按工作日申请。",
    )
    reason = forms.CharField(label="延期理由", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class DecideExtensionForm(forms.Form):
    request = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        choices=[("1", "批准"), ("0", "驳回")], coerce=lambda v: v == "1", widget=forms.HiddenInput
    )
    note = forms.CharField(label="审批意见", max_length=300, required=False)
