"""Forms of the public order pages and the staff, team and volunteer pages."""

from django import forms

from cases.forms import PhotosField

from .models import Goods, Service, ServiceKind, Team, Volunteer, clean_code


class OrderForm(forms.Form):
    """点单: the citizen's order (and the staff's entry of one taken by phone)."""

    service: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=Service.objects.none(), label="服务项目", empty_label="请选择服务项目"
    )
    description = forms.CharField(label="需求描述", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    address = forms.CharField(label="服务地点", max_length=200)
    wanted_on = forms.DateField(
        label="期望服务日期（可选）", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    people = forms.IntegerField(label="服务人数", min_value=1, max_value=10000, initial=1)
    phone = forms.CharField(
        label="联系电话",
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    name = forms.CharField(label="称呼（可选）", max_length=50, required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)

    def __init__(self, *args, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["service"]
        field.queryset = services  # type: ignore[attr-defined]
        field.label_from_instance = lambda s: f"{s.get_kind_display()} · {s.name}（{s.station.name}）"  # type: ignore[attr-defined]


class TrackForm(forms.Form):
    code = forms.CharField(label="查询码", max_length=20)
    phone = forms.CharField(
        label="联系电话", max_length=24, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )

    def clean_code(self):
        return clean_code(self.cleaned_data["code"])


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="评分", coerce=int, choices=[(i, "★" * i) for i in range(5, 0, -1)], widget=forms.RadioSelect
    )
    comment = forms.CharField(label="评价意见（2 星及以下必填）", max_length=500, required=False)


class AssignForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.filter(is_active=True), label="服务队")
    reason = forms.CharField(label="说明（可选）", max_length=500, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="理由", max_length=500)


class NoteForm(forms.Form):
    note = forms.CharField(label="服务纪实", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class CompleteForm(NoteForm):
    """服务完成: the note and photos of the service (the service checks their content and caps)."""

    photos = PhotosField(label="服务照片", required=False)


class StaffForm(forms.Form):
    volunteers = forms.ModelMultipleChoiceField(
        queryset=Volunteer.objects.none(), label="派出队员", widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        members = Volunteer.objects.filter(teams=team, is_active=True)
        self.fields["volunteers"].queryset = members  # type: ignore[attr-defined]


class PositionForm(forms.Form):
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)


class HoursForm(forms.Form):
    hours = forms.DecimalField(
        label="确认时长（小时，可少于签到时长）", max_digits=5, decimal_places=2, required=False
    )


class ActivityForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label="服务队")
    title = forms.CharField(label="活动名称", max_length=100)
    kind = forms.ChoiceField(label="服务类别", choices=ServiceKind.choices)
    place = forms.CharField(label="活动地点", max_length=200)
    starts_at = forms.DateTimeField(
        label="开始时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label="结束时间", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    capacity = forms.IntegerField(label="招募人数", min_value=1, max_value=10000)
    skills = forms.CharField(label="所需特长（可选）", max_length=200, required=False)
    description = forms.CharField(
        label="活动内容（可选）", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]


class RedeemForm(forms.Form):
    goods = forms.ModelChoiceField(queryset=Goods.objects.filter(is_active=True), widget=forms.HiddenInput)
    quantity = forms.IntegerField(label="数量", min_value=1, max_value=100, initial=1)


class PickupForm(forms.Form):
    code = forms.CharField(label="兑换码", max_length=20)

    def clean_code(self):
        return clean_code(self.cleaned_data["code"])


class AdjustForm(forms.Form):
    points = forms.IntegerField(label="调整积分（负数为扣减）")
    reason = forms.CharField(label="调整原因", max_length=200)


class ImportForm(forms.Form):
    file = forms.FileField(label="志愿者名册（XLSX）")
