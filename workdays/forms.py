from django import forms

from .models import WorkSchedule

TABLE_HELP = "每行一条：开始日期 结束日期 安排（放假或上班） 名称，如：2027-02-06 2027-02-13 放假 春节"


class YearTableForm(forms.Form):
    source = forms.CharField(label="依据（通知名称或文号）", max_length=200, required=False)
    table = forms.CharField(
        label="节假日安排表", widget=forms.Textarea(attrs={"rows": 14}), help_text=TABLE_HELP
    )


class YearFileForm(forms.Form):
    source = forms.CharField(label="依据（通知名称或文号）", max_length=200, required=False)
    file = forms.FileField(label="XLSX 文件")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError("请上传 .xlsx 格式的文件")
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError("文件不能超过 2 MB")
        return upload


class WorkScheduleForm(forms.ModelForm):
    class Meta:
        model = WorkSchedule
        fields = [
            "valid_from",
            "name",
            "morning_start",
            "morning_end",
            "afternoon_start",
            "afternoon_end",
            "summer_from",
            "summer_until",
            "summer_morning_start",
            "summer_morning_end",
            "summer_afternoon_start",
            "summer_afternoon_end",
        ]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            **{
                name: forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
                for name in fields
                if name.endswith(("_start", "_end"))
            },
            "summer_from": forms.TextInput(attrs={"placeholder": "05-01"}),
            "summer_until": forms.TextInput(attrs={"placeholder": "09-30"}),
        }
