"""Oversight: complaints pages (issue 10 item 4; see ``oversight.services.complaints``).

Public (no login): the form, its receipt, the status lookup by number and contact. Both POSTs are
rate-limited per client (django-ratelimit, ``PORTAL_COMPLAINT_RATE``); a bot that fills the hidden
field is answered as if accepted and nothing is stored. Every public answer is ``no-store``.

The centre (and, reading, the municipal bureau and the district bureau of the institution's
district): the list with its Excel export and a complaint's page, where the centre opens a case
from it or answers and closes it. Scope first (404), then the right (403), then the state (409).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.core import is_ratelimited
from openpyxl import Workbook

from certificates.services.verification import client_hash
from institutions.models import Institution
from oversight.models import ComplainantKind, ComplaintStatus, ViolationCase
from oversight.selectors import complaints as selectors
from oversight.services import complaints as service
from portal.access import public, roles_required
from portal.excel import TEXT_FORMAT, export_sheet, xlsx_response
from portal.forms import BootstrapFormMixin
from portal.security import client_ip
from portal.stepviews import perform

PAGE_SIZE = 50
RECEIPT_SALT = "oversight.complaint.receipt"
RECEIPT_MAX_AGE = 24 * 3600
HONEYPOT = "website"  # a field people never see and bots fill


# --- Rate limits ------------------------------------------------------------------------------


def _client(group, request) -> str:
    return client_ip(request) or "unknown"


def _submit_rate(group, request) -> str:
    return settings.PORTAL_COMPLAINT_RATE


def _lookup_rate(group, request) -> str:
    return settings.PORTAL_COMPLAINT_LOOKUP_RATE


def _limited(request, group: str, rate) -> bool:
    return is_ratelimited(request, group=group, key=_client, rate=rate, increment=True)


# --- Public forms -----------------------------------------------------------------------------


class ComplaintForm(BootstrapFormMixin, forms.Form):
    complainant_kind = forms.ChoiceField(
        label=gettext_lazy("您的身份"), choices=ComplainantKind.choices, widget=forms.RadioSelect
    )
    name = forms.CharField(
        label=gettext_lazy("姓名"), max_length=60, required=False, help_text=gettext_lazy("可不填（匿名反映）。")
    )
    contact = forms.CharField(
        label=gettext_lazy("联系方式"),
        max_length=100,
        help_text=gettext_lazy("电话或电子邮箱。查询办理结果时需要凭受理编号和此联系方式。"),
    )
    institution = forms.ModelChoiceField(
        label=gettext_lazy("被反映的评价机构"),
        queryset=Institution.objects.none(),
        required=False,
        empty_label=gettext_lazy("（不清楚或不涉及具体机构）"),
    )
    about = forms.CharField(
        label=gettext_lazy("涉及批次或事项"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("如评价日期、职业（工种）、等级，或其他事项。"),
    )
    body = forms.CharField(
        label=gettext_lazy("反映内容"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=gettext_lazy("请写明时间、地点、人员和经过，以便核查。"),
    )
    website = forms.CharField(required=False, label=gettext_lazy("网址"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["institution"]
        field.queryset = Institution.objects.select_related("school__organisation").order_by(
            "school__organisation__name"
        )
        field.label_from_instance = lambda i: i.school.organisation.name
        self.fields["complainant_kind"].widget.attrs["class"] = "form-check-input"
        self.fields[HONEYPOT].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})


class StatusForm(BootstrapFormMixin, forms.Form):
    number = forms.CharField(
        label=gettext_lazy("受理编号"), max_length=30, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    contact = forms.CharField(
        label=gettext_lazy("联系方式"), max_length=100, help_text=gettext_lazy("提交时填写的电话或电子邮箱。")
    )


def _receipt_url(number: str) -> str:
    token = signing.dumps({"n": number}, salt=RECEIPT_SALT)
    return reverse("oversight:complaint_receipt", args=[token])


@public
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    """The public form; a POST that is accepted goes on to the receipt (with the number)."""
    form = ComplaintForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data[HONEYPOT]:
            return redirect(_receipt_url(service.decoy_number()))  # a bot: answered as if accepted
        if _limited(request, "oversight.complaint", _submit_rate):
            form.add_error(None, _("提交过于频繁，请稍后再试。您填写的内容仍保留在下面。"))
            status = 429
        else:
            outcome = perform(
                form,
                lambda: service.complaint_submit(
                    complainant_kind=data["complainant_kind"],
                    name=data["name"],
                    contact=data["contact"],
                    institution=data["institution"],
                    about=data["about"],
                    body=data["body"],
                    client_hash=client_hash(request),
                    language=getattr(request, "LANGUAGE_CODE", ""),
                ),
            )
            if outcome.done:
                return redirect(_receipt_url(outcome.result.number))
    response = render(
        request, "oversight/complaints/new.html", {"form": form, "honeypot": form[HONEYPOT]}, status=status
    )
    if status == 429:
        response["Retry-After"] = "3600"
    return response


@public
@never_cache
@require_safe
def complaint_receipt(request: HttpRequest, token: str) -> HttpResponse:
    try:
        number = signing.loads(token, salt=RECEIPT_SALT, max_age=RECEIPT_MAX_AGE)["n"]
    except (signing.BadSignature, KeyError, TypeError):
        raise Http404 from None
    return render(request, "oversight/complaints/receipt.html", {"number": number})


@public
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def complaint_status(request: HttpRequest) -> HttpResponse:
    """Number + contact: the status and the answer; a wrong contact reads as an unknown number."""
    form = StatusForm(request.POST or None)
    context: dict = {"form": form, "asked": False}
    status = 200
    if request.method == "POST" and form.is_valid():
        if _limited(request, "oversight.complaint_status", _lookup_rate):
            form.add_error(None, _("查询过于频繁，请稍后再试。"))
            status = 429
        else:
            context["asked"] = True
            context["complaint"] = service.complaint_lookup(
                number=form.cleaned_data["number"], contact=form.cleaned_data["contact"]
            )
    return render(request, "oversight/complaints/status.html", context, status=status)


# --- The centre's triage ------------------------------------------------------------------------


STATUS_CHOICES = [("", gettext_lazy("全部")), *ComplaintStatus.choices]


def _filtered(request: HttpRequest):
    qs = selectors.complaints_for(request.user)
    status = request.GET.get("status", "")
    if status in ComplaintStatus.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    return qs, status


@roles_required(*selectors.READER_ROLES)
def complaint_list(request: HttpRequest) -> HttpResponse:
    qs, status = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "oversight/complaints/list.html",
        {
            "page": page,
            "status": status,
            "statuses": STATUS_CHOICES,
            "query": f"status={status}" if status else "",
            "pending": selectors.pending_complaint_count(request.user),
        },
    )


EXPORT_COLUMNS = (
    ("受理编号", 16),
    ("提交时间", 18),
    ("身份", 10),
    ("姓名", 10),
    ("联系方式", 20),
    ("评价机构", 30),
    ("所在区", 10),
    ("涉及批次或事项", 24),
    ("反映内容", 50),
    ("状态", 12),
    ("答复", 40),
    ("答复时间", 18),
)


def _export_row(c) -> list[str]:
    school = c.institution.school.organisation if c.institution_id else None
    return [
        c.number,
        timezone.localtime(c.submitted_at).strftime("%Y-%m-%d %H:%M"),
        str(ComplainantKind(c.complainant_kind).label),
        c.name,
        c.contact,
        school.name if school else "",
        school.district.name if school and school.district_id else "",
        c.about,
        c.body,
        str(ComplaintStatus(c.status).label),
        c.answer,
        timezone.localtime(c.answered_at).strftime("%Y-%m-%d %H:%M") if c.answered_at else "",
    ]


@roles_required(*selectors.READER_ROLES)
def complaint_export(request: HttpRequest) -> HttpResponse:
    from django.utils import translation

    qs, status = _filtered(request)
    wb = Workbook()
    ws = export_sheet(wb, "投诉举报", EXPORT_COLUMNS, first=True)
    with translation.override("zh-hans"):
        for c in qs.iterator(chunk_size=2000):
            ws.append(_export_row(c))
            ws.cell(row=ws.max_row, column=5).number_format = TEXT_FORMAT
        status_label = str(ComplaintStatus(status).label) if status else "全部"
    notes = wb.create_sheet("导出说明")
    notes.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    notes.append(["状态", status_label])
    return xlsx_response(wb, f"投诉举报-{timezone.localdate():%Y%m%d}.xlsx")


class OpenCaseForm(BootstrapFormMixin, forms.Form):
    institution = forms.ModelChoiceField(label=gettext_lazy("被反映的评价机构"), queryset=Institution.objects.none())
    title = forms.CharField(label=gettext_lazy("案由"), max_length=200)
    facts = forms.CharField(label=gettext_lazy("基本事实"), widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["institution"]
        field.queryset = Institution.objects.select_related("school__organisation").order_by(
            "school__organisation__name"
        )
        field.label_from_instance = lambda i: i.school.organisation.name


class CloseForm(BootstrapFormMixin, forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("答复意见"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("反映人凭受理编号和联系方式查询时可看到此答复。"),
    )


ACTIONS = {"open_case": OpenCaseForm, "close": CloseForm}


def _refused(request, complaint, problems) -> HttpResponse:
    return render(
        request, "oversight/complaints/refused.html", {"complaint": complaint, "problems": problems}, status=409
    )


@roles_required(*selectors.READER_ROLES)
@require_http_methods(["GET", "HEAD", "POST"])
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = selectors.complaint_detail(user=request.user, pk=pk)
    forms_ = {
        "open_case": OpenCaseForm(
            initial={
                "institution": complaint.institution_id,
                "title": _("投诉举报%(number)s反映的问题") % {"number": complaint.number},
                "facts": complaint.body,
            },
            prefix="case",
        ),
        "close": CloseForm(prefix="close"),
    }
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            raise Http404
        if not service.WORKFLOW.may(action, complaint, request.user):
            raise PermissionDenied
        form = ACTIONS[action](request.POST, prefix="case" if action == "open_case" else "close")
        forms_[action] = form
        if form.is_valid():
            data = form.cleaned_data
            if action == "open_case":
                run = lambda: service.complaint_open_case(  # noqa: E731
                    complaint=complaint,
                    actor=request.user,
                    institution=data["institution"],
                    title=data["title"],
                    facts=data["facts"],
                )
            else:
                run = lambda: service.complaint_close(complaint=complaint, actor=request.user, answer=data["answer"])  # noqa: E731
            outcome = perform(form, run)
            if outcome.refusal:
                return _refused(request, complaint, outcome.refusal)
            if outcome.done:
                return redirect("oversight:complaint_detail", complaint.pk)
    events = list(complaint.events.all())
    for e in events:
        e.label = service.EVENT_LABELS.get(e.action, e.action)
    steps = {t.name for t in service.WORKFLOW.available(complaint, request.user)}
    return render(
        request,
        "oversight/complaints/detail.html",
        {
            "complaint": complaint,
            "events": events,
            "case_form": forms_["open_case"] if "open_case" in steps else None,
            "close_form": forms_["close"] if "close" in steps else None,
            "case": ViolationCase.objects.filter(complaint=complaint).only("pk", "number").first(),
        },
    )


# --- Menu ------------------------------------------------------------------------------------------


def ready() -> None:
    """Called once from OversightConfig.ready(): the menu entry (the centre's dashboard counts the queue)."""
    from portal.navigation import register_menu

    register_menu(gettext_lazy("投诉举报"), "oversight:complaint_list", selectors.READER_ROLES)


urlpatterns = [
    path("complaints/new/", complaint_new, name="complaint_new"),
    path("complaints/receipt/<str:token>/", complaint_receipt, name="complaint_receipt"),
    path("complaints/status/", complaint_status, name="complaint_status"),
    path("complaints/", complaint_list, name="complaint_list"),
    path("complaints/export.xlsx", complaint_export, name="complaint_export"),
    path("complaints/<int:pk>/", complaint_detail, name="complaint_detail"),
]
