from django import forms

from .sheets import MAX_FILE_BYTES


class ImportForm(forms.Form):
    file = forms.FileField(label="XLSX 文件")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # .xls, .et and .ods reach the reader, which says what they are and how to convert them.
        if not upload.name.lower().endswith((".xlsx", ".xlsm", ".xls", ".et", ".ods")):
            raise forms.ValidationError("请上传 .xlsx 格式的文件")
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(f"文件不能超过 {MAX_FILE_BYTES // 1024 // 1024} MB")
        return upload


class TokenForm(forms.Form):
    name = forms.CharField(label="设备名称", max_length=100)
    days = forms.TypedChoiceField(
        label="有效期",
        coerce=int,
        initial=180,
        choices=[(30, "30 天"), (90, "90 天"), (180, "180 天"), (365, "365 天")],
    )
