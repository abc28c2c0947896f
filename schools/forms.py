from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import BootstrapFormMixin, ExcelUploadForm
from portal.models import District

ImportUploadForm = ExcelUploadForm


class StudentFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名/学号/证件号"), required=False)
    major = forms.ChoiceField(label=_("专业"), required=False)
    graduating = forms.BooleanField(label=_("仅毕业学年"), required=False)

    def __init__(self, *args, majors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["major"].choices = [("", _("全部专业"))] + [(m.pk, str(m)) for m in majors]


class SchoolFilterForm(BootstrapFormMixin, forms.Form):
    """Search of the school list: a part of the name, a district (invalid values are ignored)."""

    q = forms.CharField(label=_("学校名称"), required=False, max_length=80)
    district = forms.ModelChoiceField(
        label=_("所在区"), queryset=District.objects.order_by("code"), required=False, empty_label=_("全部区")
    )

    def filters(self) -> dict:
        """Keyword arguments of ``selectors.school_list_with_counts``."""
        if not self.is_bound or not self.is_valid():
            return {}
        district = self.cleaned_data.get("district")
        return {"search": self.cleaned_data["q"].strip(), "district_id": district.pk if district else None}


class SchoolContactForm(BootstrapFormMixin, forms.Form):
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    reason = forms.CharField(label=_("修改原因"), max_length=200, help_text=_("记入变更记录。"))
