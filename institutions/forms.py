"""Forms of the filing workflow. They only validate input; the services decide and write."""

from __future__ import annotations

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from institutions.models import (
    ApplicationKind,
    ApplicationStatus,
    EvaluationBasis,
    EvaluationMethod,
    PanelConclusion,
)
from portal.forms import BootstrapFormMixin
from portal.models import Occupation, OccupationKind
from portal.selectors import corresponding_occupation_codes, major_codes_not_corresponding
from schools.models import Level


class ChoiceWidgetsMixin(BootstrapFormMixin):
    """Radio buttons and checkbox lists get Bootstrap's check class, not form-control."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                field.widget.attrs["class"] = "form-check-input"


class ApplicationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), ("in_progress", _("办理中（全部未办结）")), *ApplicationStatus.choices],
    )


class ApplicationCreateForm(ChoiceWidgetsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("申请类型"), choices=ApplicationKind.choices, widget=forms.RadioSelect)


class ContactForm(BootstrapFormMixin, forms.Form):
    contact_name = forms.CharField(label=_("联系人"), max_length=50)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30)


class StatementForm(BootstrapFormMixin, forms.Form):
    statement = forms.CharField(
        label=_("对照本项条件的说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("对照该项条件逐条说明学校的实际情况；提交前须填写。"),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class EvidenceForm(BootstrapFormMixin, forms.Form):
    files = MultipleFileField(
        label=_("上传文件"),
        help_text=_("PDF、JPEG 或 PNG，每个文件不超过 10 MB；可一次选择多个文件。类型按文件内容判断。"),
    )


def occupation_note(occupation: Occupation) -> str:
    """Why an occupation can or cannot be applied for (annex §1.3), shown next to its name."""
    if occupation.is_access_type:
        return str(_("准入类职业资格，不能申报"))
    if occupation.kind != OccupationKind.SKILL:
        return str(_("非技能类职业，不能申报"))
    if not occupation.has_national_standard:
        return str(_("尚无国家职业技能标准，须以已备案的评价规范为依据"))
    return ""


class OfferedChoiceField(forms.TypedChoiceField):
    """Offers ``choices`` but also lets through the values in ``accepted``, so that the form's
    ``clean`` can refuse one in the submit rules' own words instead of "not a valid choice"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.accepted: set[str] = set()

    def valid_value(self, value) -> bool:
        return str(value) in self.accepted or super().valid_value(value)


class MajorCheckboxes(forms.CheckboxSelectMultiple):
    """Each major's checkbox carries the highest level its training level allows (data-level-cap),
    so that static/js/portal.js can keep the highest-level choice within the ticked majors' reach."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        major = getattr(value, "instance", None)
        if major is not None:
            option["attrs"]["data-level-cap"] = major.level_cap
        return option


def offered_label(occupation: Occupation) -> str:
    note = "" if occupation.has_national_standard else occupation_note(occupation)
    return f"{occupation}（{note}）" if note else str(occupation)


class OccupationForm(ChoiceWidgetsMixin, forms.Form):
    """An occupation applied for, offering only what this school may apply for (annex §1.3).

    Offered: active skill occupations that are not access-type qualifications (those matching one
    of the school's majors first), levels up to the school type's cap, the school's active majors
    marked by whether they correspond to the chosen occupation. ``clean`` refuses early, in the
    submit rules' own words, what ``institutions/services/rules.py`` would refuse on submit for
    this row (that module stays the authority); a value sent that was not offered gets the same.
    """

    occupation = OfferedChoiceField(label=_("职业（工种）"), coerce=int)
    lowest_level = OfferedChoiceField(label=_("最低等级"), coerce=int)
    highest_level = OfferedChoiceField(
        label=_("最高等级"),
        coerce=int,
        help_text=_("不超过学校类型和所选专业培养层次可评价的最高等级。"),
    )
    basis = forms.ChoiceField(label=_("评价依据"), choices=EvaluationBasis.choices, widget=forms.RadioSelect)
    specification_ref = forms.CharField(
        label=_("评价规范备案文号"),
        max_length=80,
        required=False,
        help_text=_("以评价规范为依据的必填（评价规范须已报人社部门备案）。"),
    )
    majors = forms.ModelMultipleChoiceField(
        label=_("对应专业"),
        queryset=None,
        widget=MajorCheckboxes,
        help_text=_("学校须设有与评价项目相对应的专业（附件第一条第（三）项）。"),
    )

    def __init__(self, *args, occupations=(), majors=None, school=None, refresh_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.school = school
        self.occupations = {o.pk: o for o in occupations}
        self.school_majors = list(majors) if majors is not None else []
        offered = [o for o in occupations if o.is_assessable]
        # One query: the occupations any of the school's majors corresponds to, offered first.
        matched = corresponding_occupation_codes(m.code for m in self.school_majors)
        groups = [
            (_("与本校在办专业对应"), [(o.pk, offered_label(o)) for o in offered if o.code in matched]),
            (_("本校暂无对应专业"), [(o.pk, offered_label(o)) for o in offered if o.code not in matched]),
        ]
        field = self.fields["occupation"]
        field.choices = [("", _("请选择")), *[(group, rows) for group, rows in groups if rows]]
        field.accepted = {str(pk) for pk in self.occupations}
        if refresh_url and self.school_majors:
            # htmx: choosing an occupation re-marks the majors that correspond to it. Only the marks
            # are swapped (out of band), never the checkboxes, so nothing ticked meanwhile is lost.
            field.widget.attrs.update(
                {
                    "hx-get": refresh_url,
                    "hx-trigger": "change",
                    "hx-swap": "none",
                    "hx-select-oob": ",".join(f"#major-mark-{m.pk}" for m in self.school_majors),
                }
            )
        cap = school.level_cap if school is not None else Level.LEVEL_1
        levels = [(value, label) for value, label in Level.choices if value >= cap]
        for name in ("lowest_level", "highest_level"):
            self.fields[name].choices = levels
            self.fields[name].accepted = {str(v) for v in Level.values}
        self.fields["highest_level"].widget.attrs["data-capped-by-majors"] = ""
        self.fields["majors"].queryset = majors

    def clean_occupation(self):
        return self.occupations[self.cleaned_data["occupation"]]

    def chosen_occupation(self) -> Occupation | None:
        """The occupation sent (or the initial one), for marking the majors; None if none or unknown."""
        raw = self.data.get(self.add_prefix("occupation")) if self.is_bound else self.initial.get("occupation")
        try:
            return self.occupations.get(int(getattr(raw, "pk", raw)))
        except (TypeError, ValueError):
            return None

    @cached_property
    def unmatched_codes(self) -> set[str] | None:
        """The school's major codes that do not correspond to the chosen occupation (one query)."""
        occupation = self.chosen_occupation()
        if occupation is None:
            return None
        codes = [m.code for m in self.school_majors]
        return set(major_codes_not_corresponding(major_codes=codes, occupation=occupation))

    def major_rows(self):
        """Each major's checkbox, the major, the highest level its training level allows, and whether
        it corresponds to the chosen occupation (None: no occupation chosen yet)."""
        unmatched = self.unmatched_codes
        for option in self["majors"]:
            major = option.data["value"].instance
            corresponds = None if unmatched is None else major.code not in unmatched
            yield option, major, Level(major.level_cap).label, corresponds

    def clean(self):
        data = super().clean()
        occupation, low, high = data.get("occupation"), data.get("lowest_level"), data.get("highest_level")
        if low is not None and high is not None and low < high:
            self.add_error("lowest_level", _("最低等级不能高于最高等级。"))
        if occupation is None:
            return data
        # The same words as institutions/services/rules.py: submission_problems.
        name = f"「{occupation}」"
        if occupation.is_access_type:
            self.add_error("occupation", _("%(o)s属于准入类职业资格，不能列入评价范围。") % {"o": name})
        elif not occupation.is_assessable:
            self.add_error("occupation", _("%(o)s不是技能类职业（工种），不能列入评价范围。") % {"o": name})
        majors = list(data.get("majors") or [])
        if high is not None and self.school is not None:
            cap = self.school.level_cap
            if high < cap:
                self.add_error(
                    "highest_level",
                    _("%(o)s最高等级%(level)s超出%(type)s可评价的最高等级（%(cap)s）。")
                    % {
                        "o": name,
                        "level": Level(high).label,
                        "type": self.school.get_school_type_display(),
                        "cap": Level(cap).label,
                    },
                )
            elif majors and high < min(m.level_cap for m in majors):
                best = min(majors, key=lambda m: m.level_cap)
                self.add_error(
                    "highest_level",
                    _(
                        "%(o)s最高等级%(level)s超出对应专业培养层次可评价的最高等级：%(major)s为%(training)s专业，"
                        "最高可评价%(cap)s（附件第一条第（三）项）。"
                    )
                    % {
                        "o": name,
                        "level": Level(high).label,
                        "major": best,
                        "training": best.get_training_level_display(),
                        "cap": Level(best.level_cap).label,
                    },
                )
        if majors and occupation.is_assessable:
            unmatched = self.unmatched_codes or set()
            if any(m.code in unmatched for m in majors):
                listed = "、".join(str(m) for m in majors if m.code in unmatched)
                self.add_error(
                    "majors",
                    _(
                        "%(o)s与专业%(majors)s不对应（依据专业与职业对应表）。请改选与该职业（工种）对应的专业；"
                        "如认为对应表有误，请联系市职鉴中心系统管理员核对。"
                    )
                    % {"o": name, "majors": listed},
                )
        basis = data.get("basis")
        if basis == EvaluationBasis.NATIONAL_STANDARD and not occupation.has_national_standard:
            self.add_error(
                "basis", _("%(o)s尚未颁布国家职业技能标准，应选择已备案的评价规范作为评价依据。") % {"o": name}
            )
        if basis == EvaluationBasis.SPECIFICATION and occupation.has_national_standard:
            self.add_error(
                "basis",
                _(
                    "%(o)s已颁布国家职业技能标准（%(standard)s），应按照国家职业技能标准执行，不能使用自主开发的评价规范。"
                )
                % {"o": name, "standard": occupation.national_standard},
            )
        if basis == EvaluationBasis.SPECIFICATION and not (data.get("specification_ref") or "").strip():
            self.add_error("specification_ref", _("%(o)s以评价规范为依据的，须填写评价规范的备案文号。") % {"o": name})
        return data


class ActionForm(BootstrapFormMixin, forms.Form):
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, needs_comment: bool = False, comment_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = needs_comment
        if comment_label:
            self.fields["comment"].label = comment_label


class SubmitForm(ActionForm):
    """Submitting: the school declares that it answers for its material (annex §3.1)."""

    declaration = forms.BooleanField(
        label=_("本校对所提交申请材料的真实性、有效性、合法性负责。"),
        error_messages={"required": _("请勾选真实性声明后再提交。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["comment"]


class ConsentForm(ChoiceWidgetsMixin, forms.Form):
    agreed = forms.TypedChoiceField(
        label=_("备案确认意见"),
        choices=[("yes", _("同意备案")), ("no", _("不同意备案"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("不同意备案的，须写明理由。"),
    )

    def clean(self):
        data = super().clean()
        if data.get("agreed") is False and not data.get("comment", "").strip():
            self.add_error("comment", _("不同意备案须写明理由。"))
        return data


class PanelForm(ChoiceWidgetsMixin, forms.Form):
    """The panel the centre proposes. ``profiles`` (expert pk → what the centre weighs: where the
    expert works, their other open evaluations, conflicts declared before) are shown, not validated."""

    experts = forms.ModelMultipleChoiceField(
        label=_("专家组成员"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("3人及以上单数，从专家库中选择。"),
    )
    lead = forms.ModelChoiceField(label=_("组长"), queryset=None, help_text=_("组长须是专家组成员，负责签署评估结论。"))

    def __init__(self, *args, experts=None, profiles=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["experts"].queryset = experts
        self.fields["lead"].queryset = experts
        self.profiles = profiles or {}
        label = lambda u: f"{u}（{u.organisation}）" if u.organisation_id else str(u)  # noqa: E731
        self.fields["experts"].label_from_instance = label
        self.fields["lead"].label_from_instance = label

    def expert_rows(self):
        """Each expert's checkbox with the expert and their profile (None when not given)."""
        for option in self["experts"]:
            expert = option.data["value"].instance
            yield option, expert, self.profiles.get(expert.pk)

    def clean(self):
        data = super().clean()
        experts, lead = data.get("experts"), data.get("lead")
        if experts is not None:
            if len(experts) < 3 or len(experts) % 2 == 0:
                self.add_error("experts", _("专家组应由3人及以上单数专家组成。"))
            if lead is not None and lead not in experts:
                self.add_error("lead", _("组长须是专家组成员。"))
        return data


class FindingsForm(forms.Form):
    """One expert's own findings: per condition the methods used, met or not, and remarks;
    per occupation applied for, whether it and its corresponding major are sound.

    A condition left wholly blank is not saved (the expert may come back to it); a half-filled
    one is an error naming what is missing.
    """

    MET = [("yes", _("符合")), ("no", _("不符合"))]
    SOUND = [("yes", _("合理")), ("no", _("不合理"))]

    def __init__(self, *args, conditions=(), occupations=(), findings=(), judgements=(), **kwargs):
        super().__init__(*args, **kwargs)
        mine = {f.condition: f for f in findings}
        judged = {j.applied_id: j for j in judgements}
        self.condition_rows = []
        for answer in conditions:
            n, found = answer.condition, mine.get(answer.condition)
            self.fields[f"c{n}_methods"] = forms.MultipleChoiceField(
                label=_("采用的评估方式"),
                required=False,
                choices=EvaluationMethod.choices,
                initial=found.methods if found else [],
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            )
            self.fields[f"c{n}_met"] = forms.ChoiceField(
                label=_("是否符合"),
                required=False,
                choices=self.MET,
                initial=("yes" if found.met else "no") if found else None,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )
            self.fields[f"c{n}_remarks"] = forms.CharField(
                label=_("评估意见"),
                required=False,
                initial=found.remarks if found else "",
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )
            self.condition_rows.append((answer, n, found))
        self.occupation_rows = []
        for applied in occupations:
            found = judged.get(applied.pk)
            self.fields[f"o{applied.pk}_sound"] = forms.ChoiceField(
                label=_("职业（工种）与对应专业是否合理"),
                required=False,
                choices=self.SOUND,
                initial=("yes" if found.sound else "no") if found else None,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
            )
            self.fields[f"o{applied.pk}_remarks"] = forms.CharField(
                label=_("评估意见"),
                required=False,
                initial=found.remarks if found else "",
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
            )
            self.occupation_rows.append((applied, found))

    def conditions(self):
        for answer, n, found in self.condition_rows:
            yield answer, self[f"c{n}_methods"], self[f"c{n}_met"], self[f"c{n}_remarks"], found

    def occupations(self):
        for applied, found in self.occupation_rows:
            yield applied, self[f"o{applied.pk}_sound"], self[f"o{applied.pk}_remarks"], found

    def clean(self):
        data = super().clean()
        for _answer, n, _found in self.condition_rows:
            methods, met, remarks = data.get(f"c{n}_methods"), data.get(f"c{n}_met"), data.get(f"c{n}_remarks")
            if not (methods or met or (remarks or "").strip()):
                continue  # left for later
            if not methods:
                self.add_error(f"c{n}_methods", _("请至少选择一种评估方式。"))
            if not met:
                self.add_error(f"c{n}_met", _("请选择是否符合。"))
            if not (remarks or "").strip():
                self.add_error(f"c{n}_remarks", _("请填写评估意见。"))
        for applied, _found in self.occupation_rows:
            sound, remarks = data.get(f"o{applied.pk}_sound"), (data.get(f"o{applied.pk}_remarks") or "").strip()
            if remarks and not sound:
                self.add_error(f"o{applied.pk}_sound", _("请选择是否合理。"))
            if sound == "no" and not remarks:
                self.add_error(f"o{applied.pk}_remarks", _("判断不合理的，请写明理由。"))
        return data

    def filled(self) -> tuple[list[tuple[int, list[str], bool, str]], list[tuple[int, bool, str]]]:
        conditions = [
            (
                n,
                self.cleaned_data[f"c{n}_methods"],
                self.cleaned_data[f"c{n}_met"] == "yes",
                self.cleaned_data[f"c{n}_remarks"],
            )
            for _answer, n, _found in self.condition_rows
            if self.cleaned_data.get(f"c{n}_met")
        ]
        occupations = [
            (
                applied.pk,
                self.cleaned_data[f"o{applied.pk}_sound"] == "yes",
                self.cleaned_data[f"o{applied.pk}_remarks"],
            )
            for applied, _found in self.occupation_rows
            if self.cleaned_data.get(f"o{applied.pk}_sound")
        ]
        return conditions, occupations


class ConcludeForm(ChoiceWidgetsMixin, forms.Form):
    conclusion = forms.ChoiceField(label=_("评估结论"), choices=PanelConclusion.choices, widget=forms.RadioSelect)
    opinion = forms.CharField(label=_("专家组评估意见"), widget=forms.Textarea(attrs={"rows": 6}))


class ConfirmForm(BootstrapFormMixin, forms.Form):
    ministry_report_ref = forms.CharField(label=_("报部备案文号"), max_length=60)
    ministry_reported_on = forms.DateField(
        label=_("报部日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    category_letter = forms.CharField(
        label=_("机构类别字母"), max_length=1, initial="S", help_text=_("证书编号第1位，一个大写英文字母。")
    )
    ministry_code = forms.CharField(
        label=_("部级机构代码"), max_length=4, initial="0000", help_text=_("在本省备案的为0000。")
    )
    site_sequence = forms.CharField(
        label=_("机构（站点）序号"),
        max_length=6,
        help_text=_("6位数字，由市人力资源社会保障部门分配，全市唯一；预填的是建议值，请核对。"),
    )

    def __init__(self, *args, codes_needed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not codes_needed:  # an added occupation keeps the institution's codes
            for name in ("category_letter", "ministry_code", "site_sequence"):
                del self.fields[name]


class WorkPlanForm(BootstrapFormMixin, forms.Form):
    file = forms.FileField(
        label=_("工作方案（PDF）"),
        help_text=_("学校职业技能等级认定工作方案，PDF 格式，不超过 20 MB；重新上传将替换原文件。"),
    )


class SiteForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("站点名称"), max_length=100)
    address = forms.CharField(label=_("地址"), max_length=200)


class RoomForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label=_("考场名称"), max_length=60)
    capacity = forms.IntegerField(label=_("容纳人数"), min_value=1, max_value=500)
    av_monitoring = forms.BooleanField(label=_("配备音视频监控"), required=False)
