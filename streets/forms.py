"""Forms of the streets pages that take more than a few fields: planning a joint action."""

from django import forms

from org.models import Unit

from . import services


class JointActionForm(forms.Form):
    """吹哨: the organiser, day, time, place (with the phone's or a typed point), the units
    summoned from the "5+3" forces and the lead 举旗子. The rules are in ``services.plan_action``."""

    organiser = forms.ModelChoiceField(Unit.objects.none(), label="组织单位")
    title = forms.CharField(label="行动名称", max_length=100)
    day = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label="集合时间", widget=forms.TimeInput(attrs={"type": "time"}))
    place = forms.CharField(label="集合地点", max_length=200)
    lat = forms.DecimalField(label="纬度", max_digits=9, decimal_places=6)
    lng = forms.DecimalField(label="经度", max_digits=9, decimal_places=6)
    units = forms.ModelMultipleChoiceField(
        Unit.objects.none(), label="召集执法力量（5+3）", widget=forms.CheckboxSelectMultiple
    )
    lead_unit = forms.ModelChoiceField(Unit.objects.none(), label="牵头单位（举旗子）")
    note = forms.CharField(
        label="行动内容", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organiser"].queryset = services.planner_units(user)  # type: ignore[attr-defined]
        forces = services.joint_forces()
        self.fields["units"].queryset = forces  # type: ignore[attr-defined]
        self.fields["lead_unit"].queryset = forces  # type: ignore[attr-defined]
