"""Forms of the public appeal pages and the staff pages."""

from typing import cast

from django import forms
from django.core.exceptions import ValidationError

from .models import Appeal, clean_tracking_code, services
from .privacy import normalize_phone
from .services import MAX_DESCRIPTION, MAX_PHOTOS

UNSURE = ""


def category_choices() -> list:
    """ "不确定" first, then the categories grouped by their major class (大类)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for category in services():
        groups.setdefault(f"{category.major_name}（{category.get_kind_display()}）", []).append(
            (str(category.pk), category.name)
        )
    return [(UNSURE, "不确定（由工作人员分类）"), *groups.items()]


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; each is validated by content when the case is reported."""

    widget = MultiplePhotoInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"accept": "image/jpeg,image/png,image/webp", "multiple": True})

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise ValidationError(f"最多上传 {MAX_PHOTOS} 张照片")
        return [super(PhotosField, self).clean(f, initial) for f in files]


class AppealForm(forms.Form):
    """The citizen's appeal (and, with a channel, the clerk's entry of one)."""

    category = forms.ChoiceField(label="问题类别", required=False)
    description = forms.CharField(
        label="问题描述", max_length=MAX_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 4})
    )
    photos = PhotosField(label=f"现场照片（可选，最多 {MAX_PHOTOS} 张）")
    address = forms.CharField(label="地址或位置说明", max_length=200, required=False)
    lat = forms.DecimalField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    lng = forms.DecimalField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    phone = forms.CharField(
        label="联系电话",
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    name = forms.CharField(label="称呼（可选）", max_length=50, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = category_choices()

    def clean_phone(self):
        return normalize_phone(self.cleaned_data["phone"])

    def clean(self):
        data = super().clean() or {}
        has_point = data.get("lat") is not None and data.get("lng") is not None
        if not has_point and not data.get("address"):
            raise ValidationError("请使用定位、在地图上选择位置，或填写地址")
        return data

    def chosen_category(self):
        value = self.cleaned_data.get("category")
        return services().filter(pk=value).first() if value else None


class ClerkAppealForm(AppealForm):
    channel = forms.ChoiceField(
        label="来源渠道",
        choices=[(c, label) for c, label in Appeal.Channel.choices if c in Appeal.CLERK_CHANNELS],
        initial=Appeal.Channel.HOTLINE,
    )
    field_order = ["channel"]


class TrackForm(forms.Form):
    code = forms.CharField(
        label="查询码", max_length=20, widget=forms.TextInput(attrs={"autocapitalize": "characters"})
    )
    phone = forms.CharField(
        label="提交时留的联系电话", max_length=24, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )

    def clean_code(self):
        return clean_tracking_code(self.cleaned_data["code"])


class RatingForm(forms.Form):
    rating = forms.ChoiceField(label="您对办理结果", choices=Appeal.Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="意见（选择不满意时必填）",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class FollowUpForm(forms.Form):
    note = forms.CharField(label="回访情况", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="研判结果", choices=[("reopen", "重新办理"), ("uphold", "维持结案")], widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ClassifyForm(forms.Form):
    category = forms.ChoiceField(label="问题类别")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = category_choices()[1:]

    def chosen_category(self):
        return services().get(pk=self.cleaned_data["category"])


class StatsForm(forms.Form):
    # ISO dates (yyyy-mm-dd) whatever the locale's format: a date input accepts nothing else.
    start = forms.DateField(
        label="开始日期", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    end = forms.DateField(label="结束日期", widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    by = forms.ChoiceField(
        label="分组",
        required=False,
        choices=[
            ("unit", "按责任单位"),
            ("area", "按街道/乡镇"),
            ("category", "按类别"),
            ("channel", "按渠道"),
        ],
    )

    def clean(self):
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError("开始日期不能晚于结束日期")
        return data
