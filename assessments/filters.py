"""Filters of the batch list (issue 8 item 11), shared by the page and its Excel export.

The queryset is always the user's scope (``selectors.plan_list``); the filters only narrow it.
The district filter is offered to the city-wide roles only (a district bureau sees its own district).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import EvaluationPlan, PlanStatus, ResultStatus, SupervisionAssignment
from institutions.models import InstitutionOccupation
from portal.access import is_citywide
from portal.forms import BootstrapFormMixin
from portal.models import District, Occupation

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlanFilterForm(BootstrapFormMixin, forms.Form):
    pass


# The results filter: batches that ended and still owe their results, not yet overdue (the deadline
# runs; the overdue ones have their own list), or whose filed results wait for the centre's review.
RESULTS_DUE, RESULTS_SUBMITTED = "due", "submitted"
RESULTS_CHOICES = [(RESULTS_DUE, _("已结束、待报送结果（未逾期）")), (RESULTS_SUBMITTED, _("结果已报送，待审核"))]


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
    starts_from = django_filters.DateFilter(
        label=_("开考日期自"), field_name="starts_at", lookup_expr="date__gte", widget=DATE
    )
    starts_to = django_filters.DateFilter(
        label=_("开考日期至"), field_name="starts_at", lookup_expr="date__lte", widget=DATE
    )
    results = django_filters.ChoiceFilter(
        label=_("评价结果"), choices=RESULTS_CHOICES, method="filter_results", empty_label=_("全部")
    )
    supervision = django_filters.BooleanFilter(
        label=_("仅看已提交督导报告的批次"), method="filter_supervision", widget=forms.CheckboxInput
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

    def filter_results(self, queryset, name, value):
        from assessments.services.clock import awaiting_results

        if value == RESULTS_DUE:
            ended = awaiting_results().filter(ends_at__lt=timezone.now(), results__overdue_since__isnull=True)
            return queryset.filter(pk__in=ended.values("pk"))
        if value == RESULTS_SUBMITTED:
            return queryset.filter(results__status=ResultStatus.SUBMITTED)
        return queryset

    def filter_supervision(self, queryset, name, value):
        if value:
            reported = SupervisionAssignment.objects.filter(plan=OuterRef("pk"), report_filed_at__isnull=False)
            return queryset.filter(Exists(reported))
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
            elif name == "results":
                value = dict(RESULTS_CHOICES)[value]
            elif value is True:
                value = _("是")
            out.append((str(field.label), str(value)))
        return out
