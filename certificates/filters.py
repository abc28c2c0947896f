"""Filters of the certificate lists (issue 9 item 10), shared by each page and its Excel export.

The queryset is always the user's scope (``certificates.selectors``); the filters only narrow it.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from certificates.models import Certificate, CertificateStatus, RequestKind, RequestStatus, StatusRequest
from portal.access import is_citywide
from portal.forms import BootstrapFormMixin
from portal.models import District

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FilterForm(BootstrapFormMixin, forms.Form):
    pass


class TermsMixin:
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
            if hasattr(field, "choices") and not hasattr(value, "pk"):
                value = dict(field.choices).get(value, value)
            out.append((str(field.label), str(value)))
        return out


class CertificateFilter(TermsMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("姓名或证书编号"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("状态"), choices=CertificateStatus.choices, empty_label=_("全部状态"))
    plan = django_filters.NumberFilter(label=_("批次编号"), field_name="plan_id")
    district = django_filters.ModelChoiceFilter(
        label=_("所在区"),
        field_name="institution__school__organisation__district",
        queryset=District.objects.none(),
        empty_label=_("全部区"),
    )
    issued_from = django_filters.DateFilter(
        label=_("发证日期自"), field_name="issued_on", lookup_expr="gte", widget=DATE
    )
    issued_to = django_filters.DateFilter(label=_("发证日期至"), field_name="issued_on", lookup_expr="lte", widget=DATE)

    class Meta:
        model = Certificate
        fields: list[str] = []
        form = FilterForm

    def __init__(self, data=None, queryset=None, *, user, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        if is_citywide(user):
            self.filters["district"].queryset = District.objects.order_by("code")
        else:
            del self.filters["district"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(number__startswith=value.upper()))


class RequestFilter(TermsMixin, django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("状态"), choices=RequestStatus.choices, empty_label=_("全部状态"))
    kind = django_filters.ChoiceFilter(label=_("申请类型"), choices=RequestKind.choices, empty_label=_("全部类型"))

    class Meta:
        model = StatusRequest
        fields: list[str] = []
        form = FilterForm
