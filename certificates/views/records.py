"""Certificate lists per role, a certificate's record and history, revocation and correction requests
(issue 9 items 8 and 10). Thin: scope through ``certificates.selectors`` (404 outside it), then a service."""

from __future__ import annotations

from io import BytesIO

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from certificates import selectors
from certificates.filters import CertificateFilter, RequestFilter
from certificates.models import RequestKind, RequestStatus
from certificates.services import records as service
from institutions.services.workflow import is_school_staff_of
from portal.access import SCHOOL_VIEWER_ROLES, roles_required
from portal.excel import TEXT_FORMAT, export_sheet, xlsx_response
from portal.forms import BootstrapFormMixin
from portal.models import Role
from portal.stepviews import perform

PAGE_SIZE = 50

# The certificate list's workbook (Chinese whatever the reader's language; numbers as text).
LIST_COLUMNS = (
    ("证书编号", 26),
    ("姓名", 12),
    ("证件类型", 14),
    ("证件号码", 22),
    ("职业名称", 20),
    ("工种/职业方向", 16),
    ("等级", 12),
    ("评价机构", 30),
    ("批次编号", 10),
    ("发证日期", 12),
    ("状态", 18),
    ("状态说明", 30),
    ("已报送市职鉴中心", 14),
    ("已导出全国系统", 14),
)


def list_row(c) -> list[str]:
    return [
        c.number,
        c.name,
        c.get_id_type_display(),
        c.id_number,
        c.occupation_name,
        c.work_type or "--",
        c.get_level_display(),
        c.institution_name,
        str(c.plan_id),
        c.issued_on.isoformat(),
        c.get_status_display(),
        c.status_reason,
        "是" if c.report_id else "否",
        "是" if c.national_export_id else "否",
    ]


def certificates_workbook(rows, *, title: str, terms: list[tuple[str, str]]) -> bytes:
    wb = Workbook()
    ws = export_sheet(wb, title, LIST_COLUMNS, first=True)
    for c in rows:
        ws.append(list_row(c))
        for cell in ws[ws.max_row]:
            cell.number_format = TEXT_FORMAT
    notes = wb.create_sheet("导出说明")
    notes.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    for label, value in terms:
        notes.append([label, value])
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 40
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _listed(qs):
    return qs.only(
        "pk",
        "number",
        "name",
        "id_type",
        "id_number",
        "occupation_name",
        "work_type",
        "level",
        "institution_name",
        "plan_id",
        "issued_on",
        "status",
        "status_reason",
        "report_id",
        "national_export_id",
    )


@roles_required(*SCHOOL_VIEWER_ROLES)
def certificate_list(request: HttpRequest) -> HttpResponse:
    """School: its certificates; district bureau: its district's; the centre and city-wide roles: all."""
    filtered = CertificateFilter(
        request.GET or None, queryset=selectors.certificate_list(user=request.user), user=request.user
    )
    page = Paginator(_listed(filtered.qs).order_by("-issued_on", "number"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "certificates/records/list.html",
        {
            "filter": filtered,
            "page": page,
            "query": query.urlencode(),
            "is_school": request.user.has_role(Role.SCHOOL_STAFF),
        },
    )


@roles_required(*SCHOOL_VIEWER_ROLES)
def certificate_export(request: HttpRequest) -> HttpResponse:
    filtered = CertificateFilter(
        request.GET or None, queryset=selectors.certificate_list(user=request.user), user=request.user
    )
    with translation.override("zh-hans"):
        terms = filtered.terms
    rows = _listed(filtered.qs).order_by("-issued_on", "number").iterator(chunk_size=2000)
    return xlsx_response(
        certificates_workbook(rows, title="证书", terms=terms), f"证书-{timezone.localdate():%Y%m%d}.xlsx"
    )


@roles_required(*SCHOOL_VIEWER_ROLES)
def certificate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = selectors.certificate_detail(user=request.user, pk=pk)
    successor = getattr(certificate, "superseded_by", None)
    history = certificate.history.select_related("history_user").order_by("history_date")
    requests = certificate.requests.select_related("requested_by", "decided_by", "replacement").prefetch_related(
        "events__actor"
    )
    for r in requests:
        _label_events(r)
    return render(
        request,
        "certificates/records/detail.html",
        {
            "certificate": certificate,
            "successor": successor,
            "history": history,
            "requests": requests,
            "can_request": is_school_staff_of(request.user, certificate.institution.school)
            and certificate.status == "valid",
        },
    )


class RequestForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("申请类型"), choices=RequestKind.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    name = forms.CharField(label=_("更正后的姓名"), max_length=50, required=False)
    id_number = forms.CharField(label=_("更正后的证件号码"), max_length=30, required=False)


def _label_events(req) -> None:
    for e in req.events.all():
        e.label = service.EVENT_LABELS.get(e.action, e.action)


def _refused(request, problems, status=409):
    return render(request, "certificates/records/refused.html", {"problems": problems}, status=status)


@roles_required(*SCHOOL_VIEWER_ROLES)
def certificate_request(request: HttpRequest, pk: int) -> HttpResponse:
    """The issuing school asks the centre to revoke or correct the certificate."""
    certificate = selectors.certificate_detail(user=request.user, pk=pk)
    if not is_school_staff_of(request.user, certificate.institution.school):
        raise PermissionDenied
    form = RequestForm(request.POST or None, initial={"kind": RequestKind.REVOKE})
    if request.method == "POST" and form.is_valid():
        outcome = perform(
            form,
            lambda: service.request_create(
                certificate=certificate,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                name=form.cleaned_data["name"],
                id_number=form.cleaned_data["id_number"],
            ),
        )
        if outcome.refusal:
            return _refused(request, outcome.refusal)
        if outcome.done:
            return redirect("certificates:request_detail", outcome.result.pk)
    return render(request, "certificates/records/request_form.html", {"certificate": certificate, "form": form})


@roles_required(*SCHOOL_VIEWER_ROLES)
def request_list(request: HttpRequest) -> HttpResponse:
    """School: its requests; centre: the requests to approve (open ones first)."""
    data = request.GET or ({"status": RequestStatus.REQUESTED} if request.user.has_role(Role.CENTRE_REVIEWER) else None)
    filtered = RequestFilter(data, queryset=selectors.request_list(user=request.user))
    page = Paginator(filtered.qs.order_by("-requested_at"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "certificates/records/requests.html", {"filter": filtered, "page": page})


class DecisionForm(BootstrapFormMixin, forms.Form):
    action = forms.ChoiceField(choices=[(k, k) for k in service.REQUEST_ACTIONS])
    comment = forms.CharField(label=_("意见"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


@roles_required(*SCHOOL_VIEWER_ROLES)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A request with its events; the centre approves or refuses, the school may withdraw."""
    req = selectors.request_detail(user=request.user, pk=pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in service.REQUEST_ACTIONS:
            raise Http404
        if not service.REQUEST.may(action, req, request.user):
            raise PermissionDenied
        if form.is_valid():
            outcome = perform(
                form,
                lambda: service.REQUEST_ACTIONS[action](
                    request=req, actor=request.user, comment=form.cleaned_data["comment"]
                ),
            )
            if outcome.refusal:
                return _refused(request, outcome.refusal)
            if outcome.done:
                return redirect("certificates:request_detail", req.pk)
    _label_events(req)
    steps = service.REQUEST.available(req, request.user)
    return render(request, "certificates/records/request_detail.html", {"req": req, "form": form, "steps": steps})


urlpatterns = [
    path("", certificate_list, name="certificate_list"),
    path("export.xlsx", certificate_export, name="certificate_export"),
    path("<int:pk>/", certificate_detail, name="certificate_detail"),
    path("<int:pk>/request/", certificate_request, name="certificate_request"),
    path("requests/", request_list, name="request_list"),
    path("requests/<int:pk>/", request_detail, name="request_detail"),
]
