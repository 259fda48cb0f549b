from django import forms

from org.models import Membership, Unit, User

from .kinds import Kind
from .models import Robot
from .services import LEADER_ROLES

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PreferenceForm(forms.Form):
    muted = forms.MultipleChoiceField(
        label="只在站内提醒的事件", choices=Kind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    email = forms.BooleanField(label="邮件通知", required=False)
    sms = forms.BooleanField(label="短信通知", required=False)
    quiet_start = forms.TimeField(label="免打扰开始", required=False, widget=TIME)
    quiet_end = forms.TimeField(label="免打扰结束", required=False, widget=TIME)


class RobotForm(forms.Form):
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.filter(is_active=True).order_by("code"))
    channel = forms.ChoiceField(label="类型", choices=Robot.KINDS)
    name = forms.CharField(label="名称", max_length=60)
    webhook = forms.CharField(label="Webhook 地址", max_length=500)
    secret = forms.CharField(
        label="加签密钥（钉钉，可空）",
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=True),
    )
    kinds = forms.MultipleChoiceField(
        label="推送事件（不选为全部）",
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True)


class UnitPreferenceForm(forms.Form):
    leader = forms.ModelChoiceField(
        label="单位负责人（超期升级接收人）", queryset=User.objects.none(), required=False
    )
    quiet_start = forms.TimeField(label="群机器人免打扰开始", required=False, widget=TIME)
    quiet_end = forms.TimeField(label="群机器人免打扰结束", required=False, widget=TIME)
    digest = forms.BooleanField(label="每日 8:00 待办汇总", required=False, initial=True)

    def __init__(self, *args, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        members = Membership.objects.filter(unit=unit, role__in=LEADER_ROLES).values("user_id")
        people = User.objects.filter(pk__in=members, is_active=True).order_by("username")
        self.fields["leader"].queryset = people  # type: ignore[attr-defined]
