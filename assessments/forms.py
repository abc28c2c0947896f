from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import AssessmentMethod
from portal.forms import BootstrapFormMixin
from schools.models import Level


class PlanForm(BootstrapFormMixin, forms.Form):
    """A batch: one filed occupation and level, at one filed site, with its dates and method."""

    occupation = forms.ModelChoiceField(label=_("职业（工种）"), queryset=None)
    level = forms.TypedChoiceField(label=_("等级"), choices=Level.choices, coerce=int)
    site = forms.ModelChoiceField(label=_("考核站点"), queryset=None)
    method = forms.ChoiceField(label=_("评价方式"), choices=AssessmentMethod.choices)
    theory_by_course_score = forms.BooleanField(
        label=_("理论考试可用课程考试成绩替代"),
        required=False,
        help_text=_("仅适用于结果考核：理论考试可由本专业的考试成绩替代（通知附件第二部分第（二）项）。"),
    )
    starts_at = forms.DateTimeField(
        label=_("开始时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    ends_at = forms.DateTimeField(
        label=_("结束时间"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )

    def __init__(self, *args, occupations, sites, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:  # another occupation or level is another batch: a new plan
            del self.fields["occupation"], self.fields["level"]
        else:
            self.fields["occupation"].queryset = occupations
            self.fields["occupation"].label_from_instance = lambda row: f"{row.occupation} · {row.level_range}"
        self.fields["site"].queryset = sites
        self.fields["site"].help_text = _("已备案的考核站点；如需新站点，请通过“增加职业（工种）”或延续申请报备。")
        from assessments.services import lead_working_days

        self.fields["starts_at"].help_text = _("须在开始前至少%(n)s个工作日报市职鉴中心备案。") % {
            "n": lead_working_days()
        }

    def clean(self):
        data = super().clean()
        for name in ("starts_at", "ends_at"):
            if data.get(name) and timezone.is_naive(data[name]):
                data[name] = timezone.make_aware(data[name])
        return data


class PlanActionForm(BootstrapFormMixin, forms.Form):
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, needs_comment: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = needs_comment


class ModuleForm(BootstrapFormMixin, forms.Form):
    code = forms.CharField(label=_("考核模块代码"), max_length=20)
    name = forms.CharField(label=_("考核模块"), max_length=100)
    course = forms.CharField(label=_("对应课程模块"), max_length=100)
