"""Pages of evaluation plans: thin views over ``selectors`` (scope → 404) and ``services``
(right → 403, state → 409, rules → the form again with the message).

Batch pages need a login only: ``selectors.plan_list`` decides which batches a user sees (404
for any other), so batch staff and external supervisors reach the batches they are on."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import forms, selectors, services
from institutions import selectors as institution_selectors
from portal import stepviews
from portal.access import roles_required
from portal.history import history_rows
from portal.models import Role

ACT_SERVICES = {
    "submit": lambda plan, user, data: services.plan_submit(plan=plan, actor=user),
    "withdraw": lambda plan, user, data: services.plan_withdraw(plan=plan, actor=user, comment=data["comment"]),
    "return": lambda plan, user, data: services.plan_return(plan=plan, actor=user, comment=data["comment"]),
    "accept": lambda plan, user, data: services.plan_accept(plan=plan, actor=user, comment=data["comment"]),
    "amend": lambda plan, user, data: services.plan_amend(plan=plan, actor=user, comment=data["comment"]),
}


def _refused(request: HttpRequest, plan, problems: list[str]) -> HttpResponse:
    return render(request, "assessments/refused.html", {"plan": plan, "problems": problems}, status=409)


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """Every role's batches (selectors.plan_list), filtered (assessments.filters), in a constant number of queries."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    from assessments.filters import PlanFilter

    filtered = PlanFilter(request.GET or None, queryset=selectors.plan_list(user=request.user), user=request.user)
    page = Paginator(selectors.with_list_columns(filtered.qs), 30).get_page(request.GET.get("page"))
    institution = institution_selectors.institution_of(request.user)
    try:
        due_template = get_template("assessments/_due.html") and "assessments/_due.html"
    except TemplateDoesNotExist:
        due_template = ""
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "institution": institution,
        "filter": filtered,
        "query": query.urlencode(),
        "due_template": due_template,
    }
    return render(request, "assessments/plan_list.html", context)


@roles_required(Role.SCHOOL_STAFF)
def plan_create(request: HttpRequest) -> HttpResponse:
    institution = institution_selectors.institution_of(request.user)
    if institution is None:
        raise Http404
    today = timezone.localdate()
    occupations = institution_selectors.plannable_occupations(institution=institution, on=today)
    form = forms.PlanForm(request.POST or None, occupations=occupations, sites=institution.sites.all())
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form, lambda: services.plan_create(institution=institution, actor=request.user, **form.cleaned_data)
        )
        if outcome.done:
            messages.success(request, _("评价计划已保存为草稿，请核对后报市职鉴中心备案。"))
            return redirect("assessments:plan_detail", pk=outcome.result.pk)
    context = {"form": form, "institution": institution, "plannable": occupations.exists()}
    return render(request, "assessments/plan_form.html", context)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = selectors.plan_detail(user=request.user, pk=pk)
    actions = [(t.name, t) for t in services.PLAN.available(plan, request.user)]
    from assessments.views import candidates, drafting, results, staffing, supervision

    sections = {
        module.__name__.rsplit(".", 1)[-1]: module.section_context(request, plan)
        for module in (drafting, staffing, candidates, results, supervision)
    }
    context = {
        "plan": plan,
        "actions": actions,
        "events": list(plan.events.all()),
        "history": history_rows(plan),
        "sections": sections,
    }
    return render(request, "assessments/plan_detail.html", context)


@login_required
def plan_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACT_SERVICES:
        raise Http404
    plan = selectors.plan_detail(user=request.user, pk=pk)
    refusal = stepviews.step_refusal(request, services.PLAN, action, plan, lambda p: _refused(request, plan, p))
    if refusal:
        return refusal
    transition = services.PLAN[action]
    form = forms.PlanActionForm(
        request.POST if request.method == "POST" else None, needs_comment=transition.needs_comment
    )
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(form, lambda: ACT_SERVICES[action](plan, request.user, form.cleaned_data))
        if outcome.refusal:
            return _refused(request, plan, outcome.refusal)
        if outcome.done:
            messages.success(request, _("已办理：%(action)s。") % {"action": transition.label})
            return redirect("assessments:plan_detail", pk=plan.pk)
    if not services.PLAN.may(action, plan, request.user):
        raise PermissionDenied
    return render(request, "assessments/plan_act.html", {"plan": plan, "form": form, "transition": transition})
