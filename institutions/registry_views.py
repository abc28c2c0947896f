"""The authorities' registry of assessment institutions: read the directory entries in scope,
export them, and (centre reviewers only) suspend, restore, remove or renew them, or one of their
occupations on its own.

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
from institutions.directory_export import workbook_response
from institutions.directory_forms import DirectoryChangeForm, RegistrySearchForm
from institutions.directory_views import PAGE_SIZE, export_url, mark_statuses, rendered_entries
from institutions.models import FilingReceipt, Institution, InstitutionOccupation, InstitutionStatus
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


# One filed occupation on its own (services.DIRECTORY_OCCUPATION): the institution stays as it is.
OCCUPATION_ACTIONS: dict[str, DirectoryAction] = {
    "suspend": DirectoryAction(
        pgettext_lazy("action", "暂停"),
        services.DIRECTORY_OCCUPATION["suspend"].sources,
        services.directory_occupation_suspend,
        gettext_lazy("暂停原因"),
        gettext_lazy("将记入变更记录，并在公开目录中该职业（工种）下显示。暂停期间不能安排该职业（工种）的评价计划。"),
        "outline-warning",
    ),
    "restore": DirectoryAction(
        gettext_lazy("恢复"),
        services.DIRECTORY_OCCUPATION["restore"].sources,
        services.directory_occupation_restore,
        gettext_lazy("恢复依据"),
        gettext_lazy("如整改验收情况，将记入变更记录。"),
        "outline-success",
    ),
    "remove": DirectoryAction(
        gettext_lazy("移出目录"),
        services.DIRECTORY_OCCUPATION["remove"].sources,
        services.directory_occupation_remove,
        gettext_lazy("移出原因"),
        gettext_lazy("将记入变更记录，并在公开目录中显示。移出后不能恢复，须通过增加职业（工种）或延续备案重新申请。"),
        "outline-danger",
    ),
}


def occupation_actions(row: InstitutionOccupation, user) -> list[tuple[str, DirectoryAction]]:
    """The buttons of one occupation row: the workflow's own check (policy and state)."""
    return [
        (t.name, OCCUPATION_ACTIONS[t.name])
        for t in services.DIRECTORY_OCCUPATION.available(row, user)
        if t.name in OCCUPATION_ACTIONS
    ]


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
    qs = _registry_queryset(request, form)
    page = Paginator(qs.prefetch_related(None), PAGE_SIZE).get_page(request.GET.get("page"))
    # Rows are the same for everyone allowed to see them (scope only picks which): cached per entry.
    rows = rendered_entries("institutions/_registry_row.html", page, form.filters())
    return render(
        request,
        "institutions/registry_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "export_url": export_url(reverse("registry:export"), request),
        },
    )


def _registry_queryset(request: HttpRequest, form: RegistrySearchForm):
    return selectors.registry_list(user=request.user, status=form.status_filter(), **form.filters())


@roles_required(*REGISTRY_ROLES)
def registry_export(request: HttpRequest) -> HttpResponse:
    """The registry list as the publishing workbook (``docs/directory-export.md``): scope and search applied."""
    form = RegistrySearchForm(request.GET or None)
    filters = form.filters()
    rows = selectors.directory_export_rows(
        _registry_queryset(request, form).prefetch_related(None),
        occupation=filters.get("occupation") or "",
        level=filters.get("level"),
    )
    return workbook_response(rows, filters={**filters, "status": form.status_filter()})


@roles_required(*REGISTRY_ROLES)
def institution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    institution = selectors.registry_detail(user=request.user, pk=pk)
    mark_statuses([institution])
    for row in institution.occupations.all():
        row.institution = institution  # the guards read it: no query per row
        row.actions = occupation_actions(row, request.user)
    return render(
        request,
        "institutions/registry_detail.html",
        {
            "institution": institution,
            "receipts": [(r, _receipt_url(r)) for r in institution.receipts.all()],
            "actions": available_actions(institution, request.user),
            "occupation_actions": any(row.actions for row in institution.occupations.all()),
            "events": directory_events(institution),
            "history": history_rows(institution),
        },
    )


def directory_events(institution: Institution) -> list:
    """The institution's directory steps and its occupations', newest first, each with its step's label."""
    events = list(institution.events.select_related("actor", "occupation__occupation").order_by("-created_at", "-id"))
    for event in events:
        workflow = services.DIRECTORY_OCCUPATION if event.occupation_id else services.DIRECTORY
        if event.action in workflow:
            event.action_label = workflow[event.action].label
        elif event.action == "limit_validity":
            event.action_label = gettext_lazy("有效期调整为不超过机构有效期")
        else:
            event.action_label = event.action
    return events


@roles_required(*REGISTRY_ROLES)
def occupation_act(request: HttpRequest, pk: int, row_pk: int, action: str) -> HttpResponse:
    """Suspend, restore or remove one occupation of an institution, with a public reason."""
    step = OCCUPATION_ACTIONS.get(action)
    if step is None:
        raise Http404
    institution = get_object_or_404(selectors.institution_list(user=request.user), pk=pk)
    row = get_object_or_404(institution.occupations.select_related("occupation"), pk=row_pk)
    row.institution = institution
    form = DirectoryChangeForm(request.POST or None, reason_label=step.reason_label, help_text=step.help_text)
    context = {"institution": institution, "row": row, "action": action, "step": step, "form": form, "refusal": ""}

    def refused(problems: list[str]) -> HttpResponse:
        context["refusal"] = "；".join(problems)
        return render(request, "institutions/registry_occupation_act.html", context, status=409)

    if request.method != "POST":
        refusal = stepviews.step_refusal(request, services.DIRECTORY_OCCUPATION, action, row, refused)
        if refusal:
            return refusal
    elif not services.DIRECTORY_OCCUPATION.may(action, row, request.user):
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: step.service(row=row, actor=request.user, reason=form.cleaned_data["reason"]),
            field_name="reason",
        )
        if outcome.refusal:
            return refused(outcome.refusal)
        if outcome.done:
            messages.success(
                request,
                _("已%(a)s：%(n)s · %(o)s") % {"a": step.label, "n": institution.name, "o": row.occupation},
            )
            return redirect("registry:institution_detail", pk=institution.pk)
    return render(request, "institutions/registry_occupation_act.html", context)


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
