"""Reporting certificates (issue 9 item 9): the school reports a batch, the centre receives, exports
for the national lookup system and sees what is unreported."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from assessments.selectors import plan_detail
from certificates import selectors
from certificates.models import NationalExport, ReportStatus
from certificates.services import reporting as service
from certificates.views.records import PAGE_SIZE, _listed, _refused, certificates_workbook
from institutions.services.workflow import is_school_staff_of
from portal.access import SCHOOL_VIEWER_ROLES, roles_required
from portal.excel import xlsx_response
from portal.forms import BootstrapFormMixin
from portal.models import Role
from portal.security import attachment_disposition
from portal.stepviews import perform

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


@roles_required(*SCHOOL_VIEWER_ROLES)
def report_list(request: HttpRequest) -> HttpResponse:
    """School: its reports and the batches with certificates still to report; centre: reports to receive."""
    reports = selectors.report_list(user=request.user).annotate(n=Count("certificates"))
    status = request.GET.get("status", "")
    if status in ReportStatus.values:
        reports = reports.filter(status=status)
    page = Paginator(reports.order_by("-submitted_at"), PAGE_SIZE).get_page(request.GET.get("page"))
    pending = []
    if request.user.has_role(Role.SCHOOL_STAFF):
        pending = list(selectors.plans_to_report(user=request.user).order_by("-starts_at")[:100])
    return render(
        request,
        "certificates/records/reports.html",
        {
            "page": page,
            "pending": pending,
            "status": status,
            "statuses": ReportStatus.choices,
            "is_centre": request.user.has_role(Role.CENTRE_REVIEWER),
        },
    )


@roles_required(*SCHOOL_VIEWER_ROLES)
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """The school reports the batch's unreported certificates (GET: what would be reported)."""
    plan = plan_detail(user=request.user, pk=pk)
    if not is_school_staff_of(request.user, plan.institution.school):
        raise PermissionDenied
    form = forms.Form(request.POST or None)
    if request.method == "POST":
        outcome = perform(form, lambda: service.report_submit(plan=plan, actor=request.user))
        if outcome.done:
            return redirect("certificates:report_list")
    count = service.unreported_of_plan(plan).count()
    return render(request, "certificates/records/report_submit.html", {"plan": plan, "count": count, "form": form})


@roles_required(Role.CENTRE_REVIEWER)
def report_receive(request: HttpRequest, pk: int) -> HttpResponse:
    report = selectors.report_detail(user=request.user, pk=pk)
    if request.method == "POST":
        outcome = perform(forms.Form(), lambda: service.report_receive(report=report, actor=request.user))
        if outcome.refusal:
            return _refused(request, outcome.refusal)
        return redirect("certificates:report_list")
    return render(
        request,
        "certificates/records/report_receive.html",
        {"report": report, "certificates": _listed(report.certificates.all()).order_by("number")},
    )


class ExportForm(BootstrapFormMixin, forms.Form):
    period_from = forms.DateField(label=_("发证日期自"), widget=DATE)
    period_to = forms.DateField(label=_("发证日期至"), widget=DATE)
    include_exported = forms.BooleanField(label=_("包括已导出的证书（重新导出）"), required=False)


@roles_required(Role.CENTRE_REVIEWER)
def national(request: HttpRequest) -> HttpResponse:
    """Export reported certificates of a period for the national lookup system; earlier exports."""
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = perform(
            form,
            lambda: service.national_export(
                actor=request.user,
                period_from=form.cleaned_data["period_from"],
                period_to=form.cleaned_data["period_to"],
                include_exported=form.cleaned_data["include_exported"],
            ),
        )
        if outcome.done:
            return redirect("certificates:national")
    exports = NationalExport.objects.select_related("created_by").order_by("-created_at")[:50]
    return render(
        request,
        "certificates/records/national.html",
        {"form": form, "exports": exports, "columns": service.NATIONAL_COLUMNS},
    )


@roles_required(Role.CENTRE_REVIEWER)
def national_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(NationalExport, pk=pk)
    response = FileResponse(export.file.open("rb"), content_type=service.XLSX)
    name = f"全国证书查询系统上报-{export.period_from:%Y%m%d}-{export.period_to:%Y%m%d}.xlsx"
    response["Content-Disposition"] = attachment_disposition(name)
    return response


def _unreported(request: HttpRequest):
    return selectors.unreported_list(user=request.user)


@roles_required(Role.CENTRE_REVIEWER)
def unreported(request: HttpRequest) -> HttpResponse:
    """Certificates issued more than PORTAL_CERTIFICATE_REPORT_DAYS days ago and not reported."""
    qs = _listed(_unreported(request)).order_by("issued_on", "number")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "certificates/records/unreported.html", {"page": page, "days": service.report_days()})


@roles_required(Role.CENTRE_REVIEWER)
def unreported_export(request: HttpRequest) -> HttpResponse:
    rows = _listed(_unreported(request)).order_by("issued_on", "number").iterator(chunk_size=2000)
    with translation.override("zh-hans"):
        terms = [("未报送超过天数", str(service.report_days()))]
    data = certificates_workbook(rows, title="未报送证书", terms=terms)
    return xlsx_response(data, f"未报送证书-{timezone.localdate():%Y%m%d}.xlsx")


urlpatterns = [
    path("reports/", report_list, name="report_list"),
    path("reports/batch/<int:pk>/", report_submit, name="report_submit"),
    path("reports/<int:pk>/receive/", report_receive, name="report_receive"),
    path("national/", national, name="national"),
    path("national/<int:pk>/download/", national_download, name="national_download"),
    path("unreported/", unreported, name="unreported"),
    path("unreported/export.xlsx", unreported_export, name="unreported_export"),
]
