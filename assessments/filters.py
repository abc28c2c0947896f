"""Filters of the batch list (issue 8 item 11), shared by the page and its Excel export.

The queryset is always the user's scope (``selectors.plan_list``); the filters only narrow it.
The district filter is offered to the city-wide roles only (a district bureau sees its own district).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from assessments.models import EvaluationPlan, PlanStatus
from institutions.models import InstitutionOccupation
from portal.access import is_citywide
from portal.forms import BootstrapFormMixin
from portal.models import District, Occupation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlanFilterForm(BootstrapFormMixin, forms.Form):
    pass


class PlanFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=PlanStatus.choices, empty_label=_("全部状态"))
    district = django_filters.ModelChoiceFilter(
        label=_("所在区"),
        field_name="institution__school__organisation__district",
        queryset=District.objects.none(),
        empty_label=_("全部区"),
    )
    occupation = django_filters.ModelChoiceFilter(
        label=_("职业（工种）"),
        field_name="occupation__occupation",
        queryset=Occupation.objects.none(),
        empty_label=_("全部职业（工种）"),
    )
    due_from = django_filters.DateFilter(
        label=_("结果报送截止日自"), field_name="results_due_on", lookup_expr="gte", widget=DATE
    )
    due_to = django_filters.DateFilter(
        label=_("结果报送截止日至"), field_name="results_due_on", lookup_expr="lte", widget=DATE
    )
    overdue = django_filters.BooleanFilter(
        label=_("仅看逾期未报送结果"), method="filter_overdue", widget=forms.CheckboxInput
    )

    class Meta:
        model = EvaluationPlan
        fields: list[str] = []
        form = PlanFilterForm

    def __init__(self, data=None, queryset=None, *, user, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        self.user = user
        if is_citywide(user):
            self.filters["district"].queryset = District.objects.order_by("code")
        else:
            del self.filters["district"]
        in_scope = InstitutionOccupation.objects.filter(
            occupation=OuterRef("pk"), plans__in=queryset.order_by().values("pk")
        )
        self.filters["occupation"].queryset = Occupation.objects.filter(Exists(in_scope)).order_by("code")

    def filter_overdue(self, queryset, name, value):
        if value:
            return queryset.filter(results__overdue_since__isnull=False)
        return queryset

    @property
    def terms(self) -> list[tuple[str, str]]:
        """The filters in force, as (label, value) for the export's notes."""
        out = []
        if not self.is_bound or not self.form.is_valid():
            return out
        for name, value in self.form.cleaned_data.items():
            if value in (None, "", False):
                continue
            field = self.form.fields[name]
            if name == "status":
                value = PlanStatus(value).label
            elif value is True:
                value = _("是")
            out.append((str(field.label), str(value)))
        return out
