"""Pages of a batch's results (see assessments.services.results): attendance on the day, the
internal supervisor's report, the scores grid, Excel import and export, filing and the centre's
review. Scope by ``selectors.plan_detail`` (404), rights and rules in the service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments import selectors
from assessments.forms import PlanActionForm
from assessments.models import Attendance, Outcome, ResultFiling, ResultStatus
from assessments.services import results as service
from portal import stepviews
from portal.access import is_citywide
from portal.forms import BootstrapFormMixin, ExcelUploadForm
from portal.models import Role
from portal.views import xlsx_response
from portal.workflow import TransitionError

ACT_SERVICES = {
    "submit": lambda plan, user, data: service.results_submit(plan=plan, actor=user),
    "return": lambda plan, user, data: service.results_return(plan=plan, actor=user, comment=data["comment"]),
    "accept": lambda plan, user, data: service.results_accept(plan=plan, actor=user, comment=data["comment"]),
}


def _refused(request: HttpRequest, plan, problems: list[str]) -> HttpResponse:
    return render(request, "assessments/refused.html", {"plan": plan, "problems": problems}, status=409)


def _may_review(user) -> bool:
    return is_citywide(user) or user.has_role(Role.DISTRICT_HR_OFFICER)


def _editable(plan, filing) -> bool:
    return filing.status in service.EDITABLE and not service._day_problems(plan)


def section_context(request: HttpRequest, plan) -> dict:
    """What the batch page's results section shows (template assessments/sections/results.html)."""
    user = request.user
    filing = service.filing_of(plan)
    counts = {value: 0 for value in Attendance.values}
    outcomes = {value: 0 for value in Outcome.values}
    for attendance, outcome in plan.candidates.values_list("attendance", "outcome"):
        counts[attendance] += 1
        outcomes[outcome] += 1
    started = plan.was_accepted and not service._day_problems(plan)
    actions = []
    if filing.pk:
        actions = [(t.name, t) for t in service.RESULTS.available(filing, user) if t.name in ACT_SERVICES]
    elif service.RESULTS.may("submit", filing, user):
        actions = [("submit", service.RESULTS["submit"])]
    return {
        "filing": filing,
        "counts": counts,
        "total": sum(counts.values()),
        "recorded": counts[Attendance.PRESENT] + counts[Attendance.ABSENT] + counts[Attendance.CANCELLED],
        "passed": outcomes[Outcome.PASSED],
        "accepted": filing.status == ResultStatus.ACCEPTED,
        "started": started,
        "may_attend": started and service.may_record_attendance(user, plan),
        "may_score": service.may_enter_scores(user, plan),
        "may_report": started and service.is_internal_supervisor_of(user, plan),
        "may_review": _may_review(user),
        "actions": actions if started else [],
    }


# --- Attendance and the internal report ------------------------------------------------------


@login_required
def results_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if not service.may_record_attendance(request.user, plan):
        raise PermissionDenied
    filing = service.filing_of(plan)
    problems = service._day_problems(plan)
    if filing.status not in service.EDITABLE:
        problems.append(_("评价结果当前状态为“%(status)s”，不能修改。") % {"status": filing.get_status_display()})
    if problems:
        return _refused(request, plan, problems)
    candidates = list(plan.candidates.select_related("student").order_by("student__student_number", "pk"))
    errors: list[str] = []
    typed = {c.pk: (c.attendance, c.attendance_reason) for c in candidates}
    if request.method == "POST":
        entries = {
            c.pk: (request.POST.get(f"att-{c.pk}", c.attendance), request.POST.get(f"reason-{c.pk}", ""))
            for c in candidates
        }
        typed = entries
        try:
            changed = service.attendance_record(plan=plan, actor=request.user, entries=entries)
        except ValidationError as exc:
            errors = exc.messages
        except TransitionError as exc:
            return _refused(request, plan, exc.messages)
        else:
            messages.success(request, _("考试情况已保存（%(n)s名考生有变化）。") % {"n": changed})
            return redirect("assessments:plan_detail", pk=plan.pk)
    rows = [(c, typed[c.pk][0], typed[c.pk][1]) for c in candidates]
    context = {"plan": plan, "rows": rows, "errors": errors, "choices": Attendance.choices}
    return render(request, "assessments/results/attendance.html", context, status=200)


class ReportForm(BootstrapFormMixin, forms.Form):
    text = forms.CharField(
        label=gettext_lazy("内部质量督导报告"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy("评价组织实施情况、发现的问题及处理情况。"),
    )


@login_required
def results_report(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if not service.is_internal_supervisor_of(request.user, plan):
        raise PermissionDenied
    filing = service.filing_of(plan)
    problems = service._day_problems(plan)
    if problems:
        return _refused(request, plan, problems)
    form = ReportForm(request.POST or None, initial={"text": filing.internal_report})
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form, lambda: service.internal_report_save(plan=plan, actor=request.user, text=form.cleaned_data["text"])
        )
        if outcome.refusal:
            return _refused(request, plan, outcome.refusal)
        if outcome.done:
            messages.success(request, _("内部质量督导报告已保存。"))
            return redirect("assessments:plan_detail", pk=plan.pk)
    return render(request, "assessments/results/report.html", {"plan": plan, "form": form, "filing": filing})


# --- Scores ---------------------------------------------------------------------------------


def _grid(plan, typed: dict | None = None) -> tuple:
    parts = service.parts_of(plan)
    standard = service.standard_for(plan)
    rows = service.grid_rows(plan, parts=parts, standard=standard)
    shown = []
    for row in rows:
        cells = []
        for p in parts:
            substituted = p.code in row.substituted
            if typed is not None and row.candidate.pk in typed and not substituted:
                value = typed[row.candidate.pk].get(p.code, "")
            else:
                value = row.values.get(p.code, "")
            cells.append({"part": p, "value": value, "substituted": substituted})
        shown.append({"row": row, "cells": cells, "present": row.candidate.attendance == Attendance.PRESENT})
    return parts, shown, standard


@login_required
def results_scores(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    filing = service.filing_of(plan)
    may_edit = service.may_enter_scores(request.user, plan)
    errors: list[str] = []
    typed = None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if not _editable(plan, filing):
            problems = service._day_problems(plan) or [
                _("评价结果当前状态为“%(status)s”，不能修改。") % {"status": filing.get_status_display()}
            ]
            return _refused(request, plan, problems)
        ids = set(plan.candidates.filter(attendance=Attendance.PRESENT).values_list("pk", flat=True))
        parts = service.parts_of(plan)
        typed = {cid: {p.code: request.POST.get(f"s-{cid}-{p.code}", "") for p in parts} for cid in ids}
        try:
            changed = service.scores_save(plan=plan, actor=request.user, typed=typed)
        except ValidationError as exc:
            errors = exc.messages
        except TransitionError as exc:
            return _refused(request, plan, exc.messages)
        else:
            messages.success(request, _("成绩已保存（%(n)s项有变化）。") % {"n": changed})
            return redirect("assessments:results_scores", pk=plan.pk)
    parts, rows, standard = _grid(plan, typed)
    context = {
        "plan": plan,
        "filing": filing,
        "parts": parts,
        "rows": rows,
        "errors": errors,
        "standard": standard,
        "editing": may_edit and _editable(plan, filing),
        "may_edit": may_edit,
    }
    return render(request, "assessments/results/scores.html", context)


@login_required
def results_template(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if not service.may_enter_scores(request.user, plan):
        raise PermissionDenied
    return xlsx_response(service.score_template(plan), f"scores-{plan.pk}-template.xlsx")


@login_required
def results_import(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if not service.may_enter_scores(request.user, plan):
        raise PermissionDenied
    filing = service.filing_of(plan)
    if not _editable(plan, filing):
        problems = service._day_problems(plan) or [
            _("评价结果当前状态为“%(status)s”，不能修改。") % {"status": filing.get_status_display()}
        ]
        return _refused(request, plan, problems)
    form = ExcelUploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data["file"].read()
        try:
            changed = service.scores_import(plan=plan, actor=request.user, data=data)
        except ValidationError as exc:
            errors = exc.messages
        except TransitionError as exc:
            return _refused(request, plan, exc.messages)
        else:
            messages.success(request, _("成绩已导入（%(n)s项有变化）。") % {"n": changed})
            return redirect("assessments:results_scores", pk=plan.pk)
    context = {"plan": plan, "form": form, "errors": errors}
    return render(request, "assessments/results/import.html", context)


@login_required
def results_export(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    return xlsx_response(service.results_export(plan), f"results-{plan.pk}.xlsx")


# --- Filing and review ----------------------------------------------------------------------


@login_required
def results_review(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if not _may_review(request.user):
        raise PermissionDenied
    filing = service.filing_of(plan)
    parts, rows, standard = _grid(plan)
    actions = [(t.name, t) for t in service.RESULTS.available(filing, request.user) if t.name in ACT_SERVICES]
    context = {
        "plan": plan,
        "filing": filing,
        "parts": parts,
        "rows": rows,
        "standard": standard,
        "anomalies": service.anomalies(plan),
        "actions": actions if filing.pk else [],
        "events": list(filing.events.select_related("actor")) if filing.pk else [],
        "passed": sum(1 for r in rows if r["row"].outcome == Outcome.PASSED),
    }
    return render(request, "assessments/results/review.html", context)


@login_required
def results_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACT_SERVICES:
        raise Http404
    plan = selectors.plan_detail(user=request.user, pk=pk)
    filing = ResultFiling.objects.filter(plan=plan).first() or ResultFiling(plan=plan)
    if not service.RESULTS.may(action, filing, request.user):
        raise PermissionDenied
    if filing.pk:
        refusal = stepviews.step_refusal(request, service.RESULTS, action, filing, lambda p: _refused(request, plan, p))
        if refusal:
            return refusal
    elif action != "submit":
        return _refused(request, plan, [_("评价结果尚未报送。")])
    else:
        problems = service.submit_problems(filing)
        if problems:
            return _refused(request, plan, problems)
    transition = service.RESULTS[action]
    form = PlanActionForm(request.POST if request.method == "POST" else None, needs_comment=transition.needs_comment)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(form, lambda: ACT_SERVICES[action](plan, request.user, form.cleaned_data))
        if outcome.refusal:
            return _refused(request, plan, outcome.refusal)
        if outcome.done:
            messages.success(request, _("已办理：%(action)s。") % {"action": transition.label})
            return redirect("assessments:plan_detail", pk=plan.pk)
    context = {"plan": plan, "form": form, "transition": transition, "filing": filing}
    return render(request, "assessments/results/act.html", context)


urlpatterns: list = [
    path("<int:pk>/results/attendance/", results_attendance, name="results_attendance"),
    path("<int:pk>/results/report/", results_report, name="results_report"),
    path("<int:pk>/results/scores/", results_scores, name="results_scores"),
    path("<int:pk>/results/scores/template/", results_template, name="results_template"),
    path("<int:pk>/results/scores/import/", results_import, name="results_import"),
    path("<int:pk>/results/export/", results_export, name="results_export"),
    path("<int:pk>/results/review/", results_review, name="results_review"),
    path("<int:pk>/results/act/<str:action>/", results_act, name="results_act"),
]
