"""Editing a plan the school may still change: its dates, site, method and process modules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assessments import forms, selectors
from assessments.models import AssessmentMethod
from assessments.services import drafting
from institutions.services.workflow import is_school_staff_of
from portal import stepviews


def _own_editable(request: HttpRequest, pk: int):
    plan = selectors.plan_detail(user=request.user, pk=pk)
    if not is_school_staff_of(request.user, plan.institution.school):
        raise PermissionDenied
    return plan


def section_context(request: HttpRequest, plan) -> dict:
    may_edit = plan.is_editable and is_school_staff_of(request.user, plan.institution.school)
    return {
        "modules": list(plan.modules.all()) if plan.method == AssessmentMethod.PROCESS else [],
        "may_edit": may_edit,
        "module_form": forms.ModuleForm() if may_edit and plan.method == AssessmentMethod.PROCESS else None,
    }


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _own_editable(request, pk)
    if not plan.is_editable:
        messages.warning(request, _("评价计划当前状态为“%(s)s”，不能修改。") % {"s": plan.get_status_display()})
        return redirect("assessments:plan_detail", pk=plan.pk)
    initial = {
        "site": plan.site_id,
        "method": plan.method,
        "theory_by_course_score": plan.theory_by_course_score,
        "starts_at": timezone.localtime(plan.starts_at),
        "ends_at": timezone.localtime(plan.ends_at),
    }
    form = forms.PlanForm(
        request.POST or None, initial=initial, occupations=None, sites=plan.institution.sites.all(), editing=True
    )
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form, lambda: drafting.plan_update(plan=plan, actor=request.user, **form.cleaned_data)
        )
        if outcome.done:
            messages.success(request, _("评价计划已修改。"))
            return redirect("assessments:plan_detail", pk=plan.pk)
    return render(request, "assessments/plan_edit.html", {"form": form, "plan": plan})


@login_required
@require_POST
def module_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _own_editable(request, pk)
    form = forms.ModuleForm(request.POST)
    if form.is_valid():
        outcome = stepviews.perform(
            form, lambda: drafting.module_add(plan=plan, actor=request.user, **form.cleaned_data)
        )
        if outcome.done:
            messages.success(request, _("考核模块已添加。"))
            return redirect("assessments:plan_detail", pk=plan.pk)
    # The form again, with what was typed and why it was refused.
    return render(request, "assessments/module_form.html", {"form": form, "plan": plan}, status=200)


@login_required
@require_POST
def module_remove(request: HttpRequest, pk: int, module_pk: int) -> HttpResponse:
    plan = _own_editable(request, pk)
    module = get_object_or_404(plan.modules, pk=module_pk)
    try:
        drafting.module_remove(module=module, actor=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("考核模块已移除。"))
    return redirect("assessments:plan_detail", pk=plan.pk)


urlpatterns = [
    path("<int:pk>/edit/", plan_edit, name="plan_edit"),
    path("<int:pk>/modules/add/", module_add, name="module_add"),
    path("<int:pk>/modules/<int:module_pk>/remove/", module_remove, name="module_remove"),
]
