"""The authorities' registry of assessment institutions: read the directory entries in scope,
and (centre reviewers only) suspend, restore, remove or renew them.

Scope comes from ``selectors.institution_list``: a district bureau sees its district's
institutions, school staff their own; anything else is a 404. Only the centre acts (403 for
the others); a step the entry's state does not allow is a 409 with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from institutions import selectors, services
from institutions.directory_forms import DirectoryChangeForm, RegistrySearchForm
from institutions.directory_views import PAGE_SIZE, mark_statuses, rendered_entries
from institutions.models import FilingReceipt, Institution, InstitutionStatus
from portal import stepviews
from portal.access import roles_required
from portal.history import history_rows
from portal.models import Role

REGISTRY_ROLES = frozenset(
    {
        Role.CENTRE_REVIEWER,
        Role.COMMISSION_OFFICER,
        Role.COMMISSION_DEPT_OFFICER,
        Role.MUNICIPAL_HR_OFFICER,
        Role.DISTRICT_HR_OFFICER,
        Role.SCHOOL_STAFF,
    }
)

St = InstitutionStatus


@dataclass(frozen=True)
class DirectoryAction:
    label: str
    sources: frozenset[str]  # mirrors the state checks of the service (pinned by a test)
    service: Callable[..., Institution]
    reason_label: str
    help_text: str
    style: str


ACTIONS: dict[str, DirectoryAction] = {
    "suspend": DirectoryAction(
        pgettext_lazy("action", "暂停"),
        services.DIRECTORY_SOURCES["suspend"],
        services.institution_suspend,
        gettext_lazy("暂停原因"),
        gettext_lazy("将记入变更记录，并在公开目录中显示。暂停期间不能安排评价计划。"),
        "outline-warning",
    ),
    "restore": DirectoryAction(
        gettext_lazy("恢复"),
        services.DIRECTORY_SOURCES["restore"],
        services.institution_restore,
        gettext_lazy("恢复依据"),
        gettext_lazy("如整改验收情况，将记入变更记录。"),
        "outline-success",
    ),
    "remove": DirectoryAction(
        gettext_lazy("移出目录"),
        services.DIRECTORY_SOURCES["remove"],
        services.institution_remove,
        gettext_lazy("移出原因"),
        gettext_lazy("将记入变更记录，并在公开目录中显示。移出后不能恢复，须重新申请备案。"),
        "outline-danger",
    ),
    "renew": DirectoryAction(
        gettext_lazy("延续备案"),
        services.DIRECTORY_SOURCES["renew"],
        services.institution_renew,
        gettext_lazy("延续依据"),
        gettext_lazy("机构及其有效的职业（工种）自今日起延续3年，将记入变更记录。"),
        "outline-primary",
    ),
}


def available_actions(institution: Institution, user) -> list[tuple[str, DirectoryAction]]:
    """The buttons the page shows: the directory workflow's own check (policy and state)."""
    return [(t.name, ACTIONS[t.name]) for t in services.DIRECTORY.available(institution, user) if t.name in ACTIONS]


def _receipt_url(receipt: FilingReceipt) -> str | None:
    # The receipt download belongs to the application workflow; link it once it exists.
    try:
        return reverse("institutions:receipt_download", args=[receipt.application_id])
    except NoReverseMatch:
        return None


@roles_required(*REGISTRY_ROLES)
def institution_list(request: HttpRequest) -> HttpResponse:
    form = RegistrySearchForm(request.GET or None)
    qs = selectors.directory(**form.filters()).filter(pk__in=selectors.institution_list(user=request.user).values("pk"))
    if status := form.status_filter():
        qs = qs.filter(status=status)
    page = Paginator(qs.prefetch_related(None), PAGE_SIZE).get_page(request.GET.get("page"))
    # Rows are the same for everyone allowed to see them (scope only picks which): cached per entry.
    rows = rendered_entries("institutions/_registry_row.html", page)
    return render(request, "institutions/registry_list.html", {"form": form, "page": page, "rows": rows})


@roles_required(*REGISTRY_ROLES)
def institution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    institution = selectors.registry_detail(user=request.user, pk=pk)
    mark_statuses([institution])
    return render(
        request,
        "institutions/registry_detail.html",
        {
            "institution": institution,
            "receipts": [(r, _receipt_url(r)) for r in institution.receipts.all()],
            "actions": available_actions(institution, request.user),
            "history": history_rows(institution),
        },
    )


@roles_required(*REGISTRY_ROLES)
def institution_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    step = ACTIONS.get(action)
    if step is None:
        raise Http404
    institution = get_object_or_404(selectors.institution_list(user=request.user), pk=pk)
    form = DirectoryChangeForm(request.POST or None, reason_label=step.reason_label, help_text=step.help_text)
    context = {"institution": institution, "action": action, "step": step, "form": form, "refusal": ""}

    def refused(problems: list[str]) -> HttpResponse:
        context["refusal"] = "；".join(problems)
        return render(request, "institutions/registry_act.html", context, status=409)

    if request.method != "POST":
        refusal = stepviews.step_refusal(request, services.DIRECTORY, action, institution, refused)
        if refusal:
            return refusal
    elif not services.DIRECTORY.may(action, institution, request.user):
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: step.service(institution=institution, actor=request.user, reason=form.cleaned_data["reason"]),
            field_name="reason",
        )
        if outcome.refusal:
            return refused(outcome.refusal)
        if outcome.done:
            messages.success(request, _("已%(a)s：%(n)s") % {"a": step.label, "n": institution.name})
            return redirect("registry:institution_detail", pk=institution.pk)
    return render(request, "institutions/registry_act.html", context)
