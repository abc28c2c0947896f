from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.forms import BootstrapFormMixin


class ImportUploadForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Excel 文件（.xlsx）"),
        help_text=_("请使用下载的模板填写；任何一行有误，整个文件都不会导入。"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("只接受 .xlsx 格式的 Excel 文件。"))
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(_("文件超过 20 MB，请拆分后分别导入。"))
        return upload


class StudentFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名/学号/证件号"), required=False)
    major = forms.ChoiceField(label=_("专业"), required=False)
    graduating = forms.BooleanField(label=_("仅毕业学年"), required=False)

    def __init__(self, *args, majors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["major"].choices = [("", _("全部专业"))] + [(m.pk, str(m)) for m in majors]


class SchoolContactForm(BootstrapFormMixin, forms.Form):
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    reason = forms.CharField(label=_("修改原因"), max_length=200, help_text=_("记入变更记录。"))
