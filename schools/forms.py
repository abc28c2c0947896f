from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import BootstrapFormMixin, ExcelUploadForm
from portal.models import District
from schools.models import SchoolType, ThroughKind

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
    filed = forms.ChoiceField(
        label=_("备案情况"), required=False, choices=[("", _("全部学校")), ("no", _("尚未备案为评价机构"))]
    )

    def filters(self) -> dict:
        """Keyword arguments of ``selectors.school_list_with_counts``."""
        if not self.is_bound or not self.is_valid():
            return {}
        district = self.cleaned_data.get("district")
        return {
            "search": self.cleaned_data["q"].strip(),
            "district_id": district.pk if district else None,
            "unfiled_only": self.cleaned_data["filed"] == "no",
        }


class SchoolContactForm(BootstrapFormMixin, forms.Form):
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    reason = forms.CharField(label=_("修改原因"), max_length=200, help_text=_("记入变更记录。"))


class ThroughProgrammeForm(BootstrapFormMixin, forms.Form):
    """A school records one of its majors as a through-programme, with the approval document."""

    major = forms.TypedChoiceField(label=_("专业"), coerce=int)
    kind = forms.ChoiceField(label=_("贯通类型"), choices=ThroughKind.choices)
    partner = forms.CharField(label=_("合作院校"), max_length=120, help_text=_("贯通培养的另一所学校，如某高职院校。"))
    approval_ref = forms.CharField(
        label=_("批准文件文号"), max_length=80, help_text=_("教育行政部门批准开展贯通培养的文件文号。")
    )
    file = forms.FileField(
        label=_("批准文件"),
        help_text=_("批准文件的扫描件：PDF、JPEG 或 PNG，不超过 10 MB。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, majors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["major"].choices = [("", _("请选择专业"))] + [
            (m.pk, _("%(major)s（%(level)s）") % {"major": m, "level": m.get_training_level_display()}) for m in majors
        ]


class WithdrawForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(label=_("撤销原因"), max_length=200)


class SchoolOnboardForm(BootstrapFormMixin, forms.Form):
    """The centre's administrator opens a school and its first user in one page. The form only
    shapes the input; schools.services.school_onboard checks each field and says what is wrong."""

    name = forms.CharField(label=_("学校名称"), max_length=120, help_text=_("与办学许可证上的名称一致。"))
    short_name = forms.CharField(label=_("简称"), max_length=40, required=False)
    school_type = forms.ChoiceField(label=_("学校类型"), choices=[("", "—")] + list(SchoolType.choices))
    district = forms.ModelChoiceField(label=_("所在区"), queryset=District.objects.order_by("code"), empty_label="—")
    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=18,
        min_length=18,
        help_text=_("18位，按 GB 32100 校验末位校验码。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    full_name = forms.CharField(label=_("第一位用户的姓名"), max_length=50)
    username = forms.CharField(
        label=_("登录用户名"),
        max_length=150,
        help_text=_("字母、数字和 @ . + - _，如 school-baolin。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    email = forms.EmailField(label=_("电子邮箱"))
