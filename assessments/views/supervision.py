"""Pages of a batch's external quality supervision (see assessments.services.supervision), the
supervisors' home panel, and the Excel export of the batch list.

Scope first (``selectors``: 404 outside it), then the right (the service's checks: 403), the
state (409 with the reason), the rules (the form again, with what was typed)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments import selectors
from assessments.models import FindingKind, SupervisionAssignment, SupervisionFinding
from assessments.services import supervision as services
from institutions.forms import MultipleFileField
from portal import stepviews
from portal.access import users_with_roles
from portal.forms import BootstrapFormMixin
from portal.models import Role
from portal.security import attachment_disposition, file_download

# --- Forms ------------------------------------------------------------------------------------


class AssignForm(BootstrapFormMixin, forms.Form):
    supervisor = forms.ModelChoiceField(label=gettext_lazy("质量督导员"), queryset=None)

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["supervisor"]
        field.queryset = (
            users_with_roles([Role.QUALITY_SUPERVISOR])
            .exclude(supervisions__plan=plan)
            .select_related("organisation")
            .order_by("organisation__name", "full_name", "pk")
        )
        field.label_from_instance = lambda u: f"{u.full_name or u.username}（{u.organisation or ''}）"


class VisitForm(BootstrapFormMixin, forms.Form):
    visited_at = forms.DateTimeField(
        label=gettext_lazy("督导时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    notes = forms.CharField(label=gettext_lazy("督导记录"), widget=forms.Textarea(attrs={"rows": 5}))

    def clean_visited_at(self):
        value = self.cleaned_data["visited_at"]
        return timezone.make_aware(value) if timezone.is_naive(value) else value


class FindingForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=FindingKind.choices)
    description = forms.CharField(label=gettext_lazy("情况描述"), widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(
        label=gettext_lazy("证据文件"),
        required=False,
        help_text=gettext_lazy("PDF、JPEG 或 PNG，每个文件不超过 10 MB；可一次选择多个文件。类型按文件内容判断。"),
    )


class ReportForm(BootstrapFormMixin, forms.Form):
    report = forms.CharField(
        label=gettext_lazy("督导报告"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy("提交后不能修改，市职鉴中心和学校所在区人社局将收到通知。"),
    )


class AnswerForm(BootstrapFormMixin, forms.Form):
    answer = forms.CharField(label=gettext_lazy("整改情况"), widget=forms.Textarea(attrs={"rows": 5}))


# --- Scope ------------------------------------------------------------------------------------


def _assignment(user, pk: int) -> SupervisionAssignment:
    return get_object_or_404(
        SupervisionAssignment.objects.select_related(
            "plan__institution__school__organisation", "plan__occupation__occupation", "supervisor"
        ),
        pk=pk,
        plan__in=selectors.plan_list(user=user).values("pk"),
    )


def _finding(user, pk: int) -> SupervisionFinding:
    return get_object_or_404(
        SupervisionFinding.objects.select_related(
            "assignment__plan__institution__school__organisation", "assignment__supervisor"
        ),
        pk=pk,
        assignment__plan__in=selectors.plan_list(user=user).values("pk"),
    )


def _refused(request: HttpRequest, plan, problems) -> HttpResponse:
    return render(request, "assessments/refused.html", {"plan": plan, "problems": list(problems)}, status=409)


def _back(plan) -> str:
    return reverse("assessments:plan_detail", args=[plan.pk]) + "#supervision"


def _page(request, plan, form, *, title: str, submit: str, multipart: bool = False, intro: str = "", item=None):
    context = {
        "plan": plan,
        "form": form,
        "title": title,
        "submit": submit,
        "multipart": multipart,
        "intro": intro,
        "item": item,
        "back": _back(plan),
    }
    return render(request, "assessments/supervision/form.html", context)


# --- The batch page's section -------------------------------------------------------------------


def section_context(request: HttpRequest, plan) -> dict:
    """What the batch page's supervision section shows (template assessments/sections/supervision.html)."""
    user = request.user
    findings = SupervisionFinding.objects.select_related("answered_by").prefetch_related("evidence")
    assignments = list(
        plan.supervisions.select_related("supervisor__organisation", "assigned_by").prefetch_related(
            "visits", Prefetch("findings", queryset=findings)
        )
    )
    may_assign = services.may_assign(user, plan)
    rows = []
    for a in assignments:
        visits, found = list(a.visits.all()), list(a.findings.all())
        mine = services.is_supervisor_of(user, a)
        rows.append(
            {
                "assignment": a,
                "visits": visits,
                "findings": found,
                "mine": mine,
                "may_record": mine and not a.report_filed_at,
                "may_unassign": may_assign and not (visits or found or a.report_filed_at),
            }
        )
    filed = plan.status in services.FILED_STATUSES
    return {
        "shown": filed or bool(assignments),
        "rows": rows,
        "may_assign": may_assign and filed,
        "may_answer": services.may_answer(user, plan),
    }


# --- Centre and district bureau -----------------------------------------------------------------


@login_required
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if not services.may_assign(request.user, plan):
        raise PermissionDenied
    if plan.status not in services.FILED_STATUSES:
        return _refused(request, plan, [_("只有已报备的评价计划才能派出质量督导员。")])
    form = AssignForm(request.POST if request.method == "POST" else None, plan=plan)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: services.supervisor_assign(
                plan=plan, actor=request.user, supervisor=form.cleaned_data["supervisor"]
            ),
        )
        if outcome.refusal:
            return _refused(request, plan, outcome.refusal)
        if outcome.done:
            messages.success(
                request, _("已派出质量督导员%(name)s，并已通知本人。") % {"name": outcome.result.supervisor}
            )
            return redirect(_back(plan))
    intro = _("督导员只能查看本批次（计划、考场、工作人员、考生与考试情况），记录督导情况和发现，并提交督导报告。")
    return _page(request, plan, form, title=_("派出质量督导员"), submit=_("派出"), intro=intro)


@login_required
def unassign(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST takes the supervisor off the batch."""
    assignment = _assignment(request.user, pk)
    plan = assignment.plan
    if not services.may_assign(request.user, plan):
        raise PermissionDenied
    if request.method == "POST":
        outcome = stepviews.perform(
            None, lambda: services.supervisor_unassign(assignment=assignment, actor=request.user)
        )
        if outcome.refusal:
            return _refused(request, plan, outcome.refusal)
        messages.success(request, _("已撤销派出督导员%(name)s。") % {"name": assignment.supervisor})
        return redirect(_back(plan))
    if assignment.visits.exists() or assignment.findings.exists() or assignment.report_filed_at:
        return _refused(request, plan, [_("督导员已记录督导情况，不能撤销派出。")])
    context = {"plan": plan, "assignment": assignment, "back": _back(plan)}
    return render(request, "assessments/supervision/unassign.html", context)


# --- The supervisor -----------------------------------------------------------------------------


def _supervisor_step(request: HttpRequest, pk: int):
    """The assignment for its own supervisor's record: 403 for others, 409 once the report is filed."""
    assignment = _assignment(request.user, pk)
    if not services.is_supervisor_of(request.user, assignment):
        raise PermissionDenied
    if assignment.report_filed_at:
        return assignment, _refused(request, assignment.plan, [_("督导报告已提交，督导记录不能再修改。")])
    return assignment, None


@login_required
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    assignment, refusal = _supervisor_step(request, pk)
    if refusal:
        return refusal
    form = VisitForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form, lambda: services.visit_record(assignment=assignment, actor=request.user, **form.cleaned_data)
        )
        if outcome.refusal:
            return _refused(request, assignment.plan, outcome.refusal)
        if outcome.done:
            messages.success(request, _("督导记录已保存。"))
            return redirect(_back(assignment.plan))
    return _page(request, assignment.plan, form, title=_("记录督导情况"), submit=_("保存"))


@login_required
def finding(request: HttpRequest, pk: int) -> HttpResponse:
    assignment, refusal = _supervisor_step(request, pk)
    if refusal:
        return refusal
    posted = request.method == "POST"
    form = FindingForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        data = form.cleaned_data
        outcome = stepviews.perform(
            form,
            lambda: services.finding_add(
                assignment=assignment,
                actor=request.user,
                kind=data["kind"],
                description=data["description"],
                uploads=[f for f in data["files"] if f],
            ),
            field_name="files",
        )
        if outcome.refusal:
            return _refused(request, assignment.plan, outcome.refusal)
        if outcome.done:
            if data["kind"] == FindingKind.REQUIRED_FIX:
                messages.success(request, _("整改要求已记录，并已通知学校答复。"))
            else:
                messages.success(request, _("督导发现已记录。"))
            return redirect(_back(assignment.plan))
    intro = _("整改要求将通知学校，由学校评价工作人员逐条答复。")
    return _page(request, assignment.plan, form, title=_("记录督导发现"), submit=_("保存"), multipart=True, intro=intro)


@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    assignment, refusal = _supervisor_step(request, pk)
    if refusal:
        return refusal
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: services.report_file(assignment=assignment, actor=request.user, report=form.cleaned_data["report"]),
        )
        if outcome.refusal:
            return _refused(request, assignment.plan, outcome.refusal)
        if outcome.done:
            messages.success(request, _("督导报告已提交，市职鉴中心和区人社局已收到通知。"))
            return redirect(_back(assignment.plan))
    return _page(request, assignment.plan, form, title=_("提交督导报告"), submit=_("提交报告"))


# --- The school ---------------------------------------------------------------------------------


@login_required
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    found = _finding(request.user, pk)
    plan = found.assignment.plan
    if not services.may_answer(request.user, plan):
        raise PermissionDenied
    if found.kind != FindingKind.REQUIRED_FIX:
        return _refused(request, plan, [_("只有整改要求需要学校答复。")])
    posted = request.method == "POST"
    form = AnswerForm(request.POST if posted else None, initial={"answer": found.answer})
    if posted and form.is_valid():
        outcome = stepviews.perform(
            form, lambda: services.fix_answer(finding=found, actor=request.user, answer=form.cleaned_data["answer"])
        )
        if outcome.refusal:
            return _refused(request, plan, outcome.refusal)
        if outcome.done:
            messages.success(request, _("整改答复已提交，督导员、市职鉴中心和区人社局可以查看。"))
            return redirect(_back(plan))
    return _page(request, plan, form, title=_("答复整改要求"), submit=_("提交答复"), item=found)


# --- Evidence files -----------------------------------------------------------------------------


@login_required
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Only for those who may see the batch; never a public media address."""
    evidence = selectors.supervision_evidence(user=request.user, pk=pk)
    return file_download(
        evidence.file.open("rb"), original_name=evidence.original_name, content_type=evidence.content_type
    )


# --- The supervisors' home panel ----------------------------------------------------------------

HOME_LIMIT = 8


def home_panel(user):
    """督导任务: the batches a quality supervisor is assigned to, the report still due first."""
    from portal.home import HomeItem, HomePanel

    if not (user.is_authenticated and user.has_role(Role.QUALITY_SUPERVISOR)):
        return None
    assignments = (
        SupervisionAssignment.objects.filter(supervisor=user, plan__in=selectors.plan_list(user=user).values("pk"))
        .select_related("plan__institution", "plan__occupation__occupation")
        .order_by(F("report_filed_at").asc(nulls_first=True), "plan__starts_at")
    )
    items = []
    for a in assignments[:HOME_LIMIT]:
        plan = a.plan
        items.append(
            HomeItem(
                f"#{plan.pk} {plan.institution.name} · {plan.occupation.occupation} · {plan.get_level_display()}",
                _back(plan),
                meta=timezone.localtime(plan.starts_at).strftime("%Y-%m-%d"),
                badge=_("报告已提交") if a.report_filed_at else _("待提交督导报告"),
            )
        )
    return HomePanel(
        _("督导任务"),
        items,
        empty_text=_("目前没有派给您的督导任务。"),
        more_url=reverse("assessments:plan_list"),
        order=20,
    )


# --- The batch list's export (the list itself is views.plans.plan_list) ----------------------------


@login_required
def plan_list_export(request: HttpRequest) -> HttpResponse:
    """The batch list as the user filtered it, in the user's scope, as an Excel workbook."""
    from assessments.filters import PlanFilter
    from assessments.plan_export import XLSX, build_workbook

    scope = selectors.plan_list(user=request.user)
    filtered = PlanFilter(request.GET or None, queryset=scope, user=request.user)
    rows = selectors.with_list_columns(filtered.qs).iterator(chunk_size=2000)
    with translation.override("zh-hans"):  # the workbook is in Chinese, its notes too
        terms = filtered.terms
    data = build_workbook(rows, terms=terms)
    response = HttpResponse(data, content_type=XLSX)
    name = f"评价计划-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = attachment_disposition(name)
    return response


urlpatterns: list = [
    path("export.xlsx", plan_list_export, name="plan_list_export"),
    path("<int:pk>/supervision/assign/", assign, name="supervision_assign"),
    path("supervision/<int:pk>/unassign/", unassign, name="supervision_unassign"),
    path("supervision/<int:pk>/visit/", visit, name="supervision_visit"),
    path("supervision/<int:pk>/finding/", finding, name="supervision_finding"),
    path("supervision/<int:pk>/report/", report, name="supervision_report"),
    path("supervision/finding/<int:pk>/answer/", answer, name="supervision_answer"),
    path("supervision/evidence/<int:pk>/", evidence_download, name="supervision_evidence"),
]
