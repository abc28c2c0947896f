"""Forms of the public directory and of the authorities' registry (kept apart from the
application workflow's ``forms.py``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from institutions.models import InstitutionStatus
from portal.forms import BootstrapFormMixin
from portal.models import District
from schools.models import Level


class DirectorySearchForm(BootstrapFormMixin, forms.Form):
    """A plain form feeding ``selectors.directory``: the selector is the one query path."""

    q = forms.CharField(
        label=_("机构名称"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": _("机构名称的一部分，如 汇川"), "type": "search"}),
    )
    occupation = forms.CharField(
        label=_("职业（工种）"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": _("职业编码或名称，如 6-18-02-04、焊工")}),
    )
    district = forms.ModelChoiceField(
        label=_("所在区"), queryset=District.objects.order_by("code"), required=False, empty_label=_("全部区")
    )
    level = forms.TypedChoiceField(
        label=_("等级"),
        choices=[("", _("全部等级")), *Level.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def filters(self) -> dict:
        """The valid search terms as keyword arguments of ``selectors.directory`` (invalid ones are dropped)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        district = data.get("district")
        return {
            "q": (data.get("q") or "").strip(),
            "district_id": district.pk if district else None,
            "occupation": (data.get("occupation") or "").strip(),
            "level": data.get("level"),
        }


class RegistrySearchForm(DirectorySearchForm):
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部状态")), *InstitutionStatus.choices], required=False
    )

    def status_filter(self) -> str:
        if not self.is_bound:
            return ""
        self.is_valid()
        return self.cleaned_data.get("status") or ""


class DirectoryChangeForm(BootstrapFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, reason_label=None, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        if reason_label:
            self.fields["reason"].label = reason_label
        self.fields["reason"].help_text = help_text
