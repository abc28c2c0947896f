"""Pages of the filing workflow (annex §3.1–3.3): thin views over selectors and services.

Scope: applications load only through ``selectors`` (outside → 404). Roles: the decorators
(wrong role → 403). Steps: the buttons come from ``services.available_actions``; a step the
user may not take is a 403, a step the state does not allow is a 409 with the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from csp.decorators import csp_replace
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST

from institutions import forms, selectors, services
from institutions.models import (
    OPEN_STATUSES,
    ApplicationKind,
    Condition,
    ConsentBody,
    EvaluationBasis,
    EvidenceFile,
    FilingApplication,
    PanelConclusion,
    PanelMember,
)
from institutions.services import APPLICATION, TRANSITIONS, TransitionError
from portal import stepviews
from portal.access import SCHOOL_VIEWER_ROLES, is_citywide, roles_required, users_with_roles
from portal.history import history_rows
from portal.models import Role
from portal.queue import enqueue
from portal.security import attachment_disposition, download_name, file_download
from schools import selectors as school_selectors

VIEWER_ROLES = SCHOOL_VIEWER_ROLES | {Role.EXPERT}
INLINE_EVIDENCE_ROLES = (Role.COMMISSION_DEPT_OFFICER, Role.CENTRE_REVIEWER, Role.EXPERT)
# The inline evidence view may be framed by the portal's own pages, and a PDF shown in that frame:
# only this response relaxes the site's frame-ancestors 'none' / X-Frame-Options DENY / object-src 'none'.
EVIDENCE_FRAME_CSP = {"frame-ancestors": ["'self'"], "object-src": ["'self'"]}
RECEIPT_RENDER_PATIENCE = dt.timedelta(minutes=2)

# Steps that have their own page; the others go through ``application_act``.
STEP_PAGES = {
    "form_panel": "institutions:panel_form",
    "record_findings": "institutions:findings",
    "conclude": "institutions:conclude",
    "confirm": "institutions:confirm",
}


# --- Helpers ---------------------------------------------------------------------------


def _is_owner(user, application: FilingApplication) -> bool:
    """School staff of the applying school: the only people who draft and submit."""
    return user.has_role(Role.SCHOOL_STAFF) and user.organisation_id == application.school.organisation_id


def _posted(request: HttpRequest):
    """The form data of a POST, even an empty one (a bare confirmation), else None (unbound)."""
    return request.POST if request.method == "POST" else None


def _refused(request: HttpRequest, application, problems: list[str], title: str = "") -> HttpResponse:
    """The page for a step the application's state does not allow: HTTP 409 with the reasons."""
    context = {"application": application, "problems": problems, "title": title or _("无法办理")}
    return render(request, "institutions/refused.html", context, status=409)


def _step_page(request: HttpRequest, pk: int, action: str) -> tuple[FilingApplication, HttpResponse | None]:
    """The application for a step page, or the 409 page when its state does not allow the step."""
    application = selectors.application_detail(user=request.user, pk=pk)
    refusal = stepviews.step_refusal(
        request,
        APPLICATION,
        action,
        application,
        lambda problems: _refused(request, application, problems, str(TRANSITIONS[action].label)),
    )
    return application, refusal


def _editable(request: HttpRequest, pk: int) -> tuple[FilingApplication, HttpResponse | None]:
    """The application for a school edit page, or the 409 page when it cannot be edited now."""
    application = selectors.application_detail(user=request.user, pk=pk)
    if not _is_owner(request.user, application):
        raise PermissionDenied
    if not application.is_editable:
        return application, _refused(request, application, [_("申请已提交，不能修改；如需修改请等待退回或先撤回。")])
    return application, None


def _apply_errors(form, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


def _action_buttons(application: FilingApplication, user) -> list[dict]:
    from django.urls import reverse

    buttons = []
    for name, transition in services.available_actions(application, user):
        if name in STEP_PAGES:
            url = reverse(STEP_PAGES[name], args=[application.pk])
        else:
            url = reverse("institutions:application_act", args=[application.pk, name])
        buttons.append({"name": name, "label": transition.label, "style": transition.style, "url": url})
    return buttons


def _evaluation(application) -> dict:
    """Each condition and occupation with every expert's own findings, attributed (prefetched)."""
    panel = getattr(application, "panel", None)
    findings = list(panel.findings.all()) if panel else []
    judgements = list(panel.occupation_judgements.all()) if panel else []
    return {
        "conditions": [
            (answer, [f for f in findings if f.condition == answer.condition]) for answer in application.answers.all()
        ],
        "occupations": [
            (applied, [j for j in judgements if j.applied_id == applied.pk])
            for applied in application.occupations.all()
        ],
    }


# --- List and create -------------------------------------------------------------------


@roles_required(*VIEWER_ROLES)
def application_list(request: HttpRequest) -> HttpResponse:
    form = forms.ApplicationFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    applications = selectors.application_list_filtered(user=request.user, status=status)
    page = Paginator(applications, 30).get_page(request.GET.get("page"))
    context = {"page": page, "form": form}
    if request.user.has_role(Role.SCHOOL_STAFF):
        school = school_selectors.school_of(request.user)
        if school is not None:
            open_app = selectors.application_list(user=request.user).filter(school=school, status__in=OPEN_STATUSES)
            institution = getattr(school, "institution", None)
            today = timezone.localdate()
            # Which kinds the school may file now, and why not the others (the service checks the same).
            reasons = {k: services.kind_problem(k, institution, today) for k in ApplicationKind.values}
            allowed = [(k, label) for k, label in ApplicationKind.choices if not reasons[k]]
            form = forms.ApplicationCreateForm(initial={"kind": allowed[0][0] if allowed else None})
            form.fields["kind"].choices = allowed
            context.update(
                school=school,
                open_application=open_app.first(),
                institution=institution,
                blocked=not allowed,
                not_now=[(ApplicationKind(k).label, r) for k, r in reasons.items() if r],
                create_form=form,
            )
    return render(request, "institutions/application_list.html", context)


@roles_required(Role.SCHOOL_STAFF)
@require_POST
def application_create(request: HttpRequest) -> HttpResponse:
    school = school_selectors.school_of(request.user)
    if school is None:
        raise PermissionDenied
    form = forms.ApplicationCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择申请类型。"))
        return redirect("institutions:application_list")
    try:
        application = services.application_create(school=school, actor=request.user, kind=form.cleaned_data["kind"])
    except TransitionError as exc:
        return _refused(request, None, exc.messages, _("不能新建备案申请"))
    messages.success(request, _("已新建备案申请，请逐项填写备案条件、上传佐证材料并添加申报职业（工种）。"))
    return redirect("institutions:application_detail", pk=application.pk)


# --- The one page ----------------------------------------------------------------------


@roles_required(*VIEWER_ROLES)
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    application = selectors.application_detail(user=user, pk=pk)
    panel = getattr(application, "panel", None)
    is_owner = _is_owner(user, application)
    events = list(application.events.all())
    consents = {c.body: c for c in application.consents.all()}
    context = {
        "application": application,
        "buttons": _action_buttons(application, user),
        "can_edit": is_owner and application.is_editable,
        "is_owner": is_owner,
        "problems": services.submission_problems(application) if is_owner and application.is_editable else None,
        "answers": list(application.answers.all()),
        "occupations": list(application.occupations.all()),
        "panel": panel,
        "see_evaluation": is_citywide(user) or user.has_role(Role.EXPERT),
        # The reviewers read each condition's evidence in the page (the commission's department, the centre, experts).
        "inline_evidence": user.has_role(*INLINE_EVIDENCE_ROLES),
        "members": list(panel.members.all()) if panel else [],
        "evaluation": _evaluation(application),
        "consents": [(body, consents.get(body.value)) for body in ConsentBody],
        "events": events,
        "last_return": next((e for e in reversed(events) if e.action == "return"), None),
        "receipt": getattr(application, "receipt", None),
        "history": history_rows(application),
    }
    return render(request, "institutions/application_detail.html", context)


# --- School: drafting ------------------------------------------------------------------


@roles_required(Role.SCHOOL_STAFF)
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    application, refused = _editable(request, pk)
    if refused:
        return refused
    initial = {"contact_name": application.contact_name, "contact_phone": application.contact_phone}
    form = forms.ContactForm(_posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.application_update(application=application, actor=request.user, **form.cleaned_data)
        except TransitionError as exc:
            return _refused(request, application, exc.messages)
        messages.success(request, _("联系人已保存。"))
        return redirect("institutions:application_detail", pk=application.pk)
    return render(request, "institutions/application_edit.html", {"application": application, "form": form})


@roles_required(Role.SCHOOL_STAFF)
def condition_edit(request: HttpRequest, pk: int, condition: int) -> HttpResponse:
    """One form for the statement and the files: a POST saves what it carries, both together.

    The statement is saved when the POST has one (and it changed); each file goes through the
    service. A refused file keeps the page with the typed text as typed and says what was saved.
    """
    if condition not in Condition.values:
        raise Http404
    application, refused = _editable(request, pk)
    if refused:
        return refused
    answer = next(a for a in application.answers.all() if a.condition == condition)
    statement_form = forms.StatementForm(initial={"statement": answer.statement})
    evidence_form = forms.EvidenceForm()
    evidence_form.fields["files"].required = False
    if request.method == "POST":
        statement_form = forms.StatementForm(request.POST)
        evidence_form = forms.EvidenceForm(request.POST, request.FILES)
        evidence_form.fields["files"].required = False
        has_statement = "statement" in request.POST
        if (not has_statement or statement_form.is_valid()) and evidence_form.is_valid():
            try:
                statement = statement_form.cleaned_data["statement"].strip() if has_statement else None
                if statement is not None and statement != answer.statement:
                    services.condition_answer_save(
                        application=application, actor=request.user, condition=condition, statement=statement
                    )
                    messages.success(request, _("条件%(n)s的情况说明已保存。") % {"n": condition})
                files = [f for f in evidence_form.cleaned_data["files"] if f]
                added = _add_evidence(request, application, condition, evidence_form, files)
            except TransitionError as exc:
                return _refused(request, application, exc.messages)
            if not evidence_form.errors:
                if statement in (None, answer.statement) and not added:
                    messages.info(request, _("没有需要保存的改动。"))
                if request.POST.get("then") == "application":
                    response = redirect("institutions:application_detail", pk=application.pk)
                    response["Location"] += "#conditions"
                    return response
                return redirect("institutions:condition_edit", pk=application.pk, condition=condition)
        application = selectors.application_detail(user=request.user, pk=pk)  # show what was added
        answer = next(a for a in application.answers.all() if a.condition == condition)
    context = {
        "application": application,
        "answer": answer,
        "condition": Condition(condition),
        "statement_form": statement_form,
        "evidence_form": evidence_form,
    }
    return render(request, "institutions/condition_edit.html", context)


def _add_evidence(request: HttpRequest, application, condition: int, form, files) -> int:
    """Adds each uploaded file through the service; refused files become form errors."""
    added = 0
    for upload in files:
        try:
            services.evidence_add(application=application, actor=request.user, condition=condition, upload=upload)
            added += 1
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("files", message)
    if added:
        messages.success(request, _("已上传%(n)s份佐证材料。") % {"n": added})
    return added


def _evidence_in_scope(user, pk: int) -> EvidenceFile:
    return selectors.evidence_in_scope(user=user, pk=pk)


@roles_required(*VIEWER_ROLES)
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = _evidence_in_scope(request.user, pk)
    # Named and typed by the checked content type, whatever name it was uploaded under.
    return file_download(
        evidence.file.open("rb"), original_name=evidence.original_name, content_type=evidence.content_type
    )


@roles_required(*VIEWER_ROLES)
@xframe_options_sameorigin
@csp_replace(EVIDENCE_FRAME_CSP)
def evidence_view(request: HttpRequest, pk: int) -> FileResponse:
    """The evidence file shown in the page (a PDF in a frame, an image as <img>), scoped as the download.

    Served inline under its checked content type only; anything else (none is accepted on upload)
    would download as an attachment, never render.
    """
    evidence = _evidence_in_scope(request.user, pk)
    if evidence.content_type not in services.EVIDENCE_TYPES:
        return file_download(
            evidence.file.open("rb"), original_name=evidence.original_name, content_type=evidence.content_type
        )
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    name = download_name(evidence.original_name, evidence.content_type)
    response["Content-Disposition"] = "inline" + attachment_disposition(name).removeprefix("attachment")
    patch_cache_control(response, private=True)
    return response


def _confirm_delete(request: HttpRequest, application, *, what: str, name: str, back: str) -> HttpResponse:
    """The confirmation page of a deletion (GET); the deletion itself is the POST it sends."""
    if not application.is_editable:
        return _refused(request, application, [_("申请已提交，不能修改；如需修改请等待退回或先撤回。")])
    context = {"application": application, "what": what, "name": name, "back": back}
    return render(request, "institutions/delete_confirm.html", context)


@roles_required(Role.SCHOOL_STAFF)
@require_http_methods(["GET", "HEAD", "POST"])
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes."""
    evidence = _evidence_in_scope(request.user, pk)
    application, condition = evidence.answer.application, evidence.answer.condition
    if request.method != "POST":
        from django.urls import reverse

        back = reverse("institutions:condition_edit", args=[application.pk, condition])
        what = _("条件%(n)s的佐证材料") % {"n": condition}
        return _confirm_delete(request, application, what=what, name=evidence.original_name, back=back)
    try:
        services.evidence_remove(evidence=evidence, actor=request.user)
    except TransitionError as exc:
        return _refused(request, application, exc.messages)
    messages.success(request, _("已删除佐证材料“%(name)s”。") % {"name": evidence.original_name})
    return redirect("institutions:condition_edit", pk=application.pk, condition=condition)


def _occupation_form_page(request: HttpRequest, application, applied=None) -> HttpResponse:
    """The occupation form, to add one (``applied`` None) or change one; only what the school may apply for."""
    school = application.school
    occupations = list(selectors.occupation_choices())
    majors = school_selectors.major_list(user=request.user, school=school).filter(is_active=True).order_by("code")
    if applied is None:
        initial = {"lowest_level": 5, "highest_level": school.level_cap, "basis": EvaluationBasis.NATIONAL_STANDARD}
    else:
        initial = {
            "occupation": applied.occupation_id,
            "lowest_level": applied.lowest_level,
            "highest_level": applied.highest_level,
            "basis": applied.basis,
            "specification_ref": applied.specification_ref,
            "majors": [m.pk for m in applied.majors.all()],
        }
    if request.method != "POST" and request.GET.get("occupation"):
        # Another occupation chosen (htmx swaps the majors, marked for it; ticked majors kept).
        initial.update(occupation=request.GET["occupation"], majors=request.GET.getlist("majors"))
    form = forms.OccupationForm(
        _posted(request),
        initial=initial,
        occupations=occupations,
        majors=majors,
        school=school,
        refresh_url=request.path,
    )
    if request.method == "POST" and form.is_valid():
        try:
            if applied is None:
                services.occupation_add(application=application, actor=request.user, **form.cleaned_data)
            else:
                services.occupation_update(applied=applied, actor=request.user, **form.cleaned_data)
        except TransitionError as exc:
            return _refused(request, application, exc.messages)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已修改申报职业（工种）。") if applied else _("已添加申报职业（工种）。"))
            response = redirect("institutions:application_detail", pk=application.pk)
            if applied is not None:  # back to the row that was changed
                response["Location"] += "#occupations"
            return response
    context = {
        "application": application,
        "form": form,
        "school": school,
        "applied": applied,
        "has_majors": bool(form.school_majors),
    }
    return render(request, "institutions/occupation_add.html", context)


@roles_required(Role.SCHOOL_STAFF)
def occupation_add(request: HttpRequest, pk: int) -> HttpResponse:
    application, refused = _editable(request, pk)
    if refused:
        return refused
    return _occupation_form_page(request, application)


@roles_required(Role.SCHOOL_STAFF)
def occupation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Changes an occupation while the application is a draft or returned."""
    applied = selectors.applied_occupation_in_scope(user=request.user, pk=pk)
    application, refused = _editable(request, applied.application_id)
    if refused:
        return refused
    applied = next(a for a in application.occupations.all() if a.pk == applied.pk)  # with its majors
    return _occupation_form_page(request, application, applied)


@roles_required(Role.SCHOOL_STAFF)
@require_http_methods(["GET", "HEAD", "POST"])
def occupation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes."""
    applied = selectors.applied_occupation_in_scope(user=request.user, pk=pk)
    if request.method != "POST":
        from django.urls import reverse

        back = reverse("institutions:application_detail", args=[applied.application_id]) + "#occupations"
        return _confirm_delete(
            request, applied.application, what=_("申报职业（工种）"), name=str(applied.occupation), back=back
        )
    try:
        services.occupation_remove(applied=applied, actor=request.user)
    except TransitionError as exc:
        return _refused(request, applied.application, exc.messages)
    messages.success(request, _("已删除申报职业（工种）“%(o)s”。") % {"o": applied.occupation})
    return redirect("institutions:application_detail", pk=applied.application_id)


# --- Workflow steps --------------------------------------------------------------------


def _consent(application, user, data) -> None:
    services.consent_record(application=application, actor=user, agreed=data["agreed"], comment=data["comment"])


ACT_SERVICES: dict[str, Callable] = {
    "submit": lambda app, user, data: services.application_submit(
        application=app, actor=user, declared=data["declaration"]
    ),
    "withdraw": lambda app, user, data: services.application_withdraw(
        application=app, actor=user, comment=data["comment"]
    ),
    "return": lambda app, user, data: services.application_return(application=app, actor=user, comment=data["comment"]),
    "accept": lambda app, user, data: services.application_accept(application=app, actor=user, comment=data["comment"]),
    "agree_panel": lambda app, user, data: services.panel_agree(application=app, actor=user, comment=data["comment"]),
    "declare_conflict": lambda app, user, data: services.panel_declare_conflict(
        application=app, actor=user, note=data["comment"]
    ),
    "consent": _consent,
}


@roles_required(*VIEWER_ROLES)
def application_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACT_SERVICES:
        raise Http404
    application, refused = _step_page(request, pk, action)
    if refused:
        return refused
    transition = TRANSITIONS[action]
    if action == "consent":
        form = forms.ConsentForm(_posted(request))
        body = services.consent_body_of(request.user)
    elif action == "submit":
        form = forms.SubmitForm(_posted(request))
        body = None
    else:
        label = _("回避理由（利益冲突情形）") if action == "declare_conflict" else None
        form = forms.ActionForm(_posted(request), needs_comment=transition.needs_comment, comment_label=label)
        body = None
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(form, lambda: ACT_SERVICES[action](application, request.user, form.cleaned_data))
        if outcome.refusal:
            return _refused(request, application, outcome.refusal, str(transition.label))
        if outcome.done:
            messages.success(request, _("已办理：%(action)s。") % {"action": transition.label})
            if action == "declare_conflict":  # the expert no longer sees the application
                return redirect("institutions:application_list")
            return redirect("institutions:application_detail", pk=application.pk)
    context = {
        "application": application,
        "transition": transition,
        "action": action,
        "form": form,
        "hint": transition.hint,
        "body": ConsentBody(body).label if body else "",
        "problems": services.submission_problems(application) if action == "submit" else [],
    }
    return render(request, "institutions/application_act.html", context)


@dataclass
class ExpertProfile:
    """What the centre weighs when choosing an expert. The user model records no specialty, so the
    expert's organisation stands in for it; load and conflicts come from the panel seats."""

    organisation: str
    open_load: int
    conflicts: list[PanelMember] = field(default_factory=list)
    conflict_here: bool = False


def _expert_profiles(experts: list, application: FilingApplication) -> dict[int, ExpertProfile]:
    """Each expert's profile; conflicts declared on earlier panels in one query (load is annotated)."""
    profiles = {e.pk: ExpertProfile(organisation=str(e.organisation or ""), open_load=e.open_load) for e in experts}
    declared = (
        PanelMember.objects.filter(expert_id__in=list(profiles), excluded=True)
        .exclude(panel__application=application)
        .select_related("panel__application__school__organisation")
        .order_by("-panel__formed_at", "-pk")
    )
    for seat in declared:
        profile = profiles[seat.expert_id]
        profile.conflicts.append(seat)
        profile.conflict_here |= seat.panel.application.school_id == application.school_id
    return profiles


@roles_required(Role.CENTRE_REVIEWER)
def panel_form(request: HttpRequest, pk: int) -> HttpResponse:
    application, refused = _step_page(request, pk, "form_panel")
    if refused:
        return refused
    panel = getattr(application, "panel", None)
    members = list(panel.members.all()) if panel else []
    # Load: the other open applications on whose panel the expert sits (not excluded), as a subquery.
    seats = (
        PanelMember.objects.filter(
            expert=OuterRef("pk"), excluded=False, panel__application__status__in=sorted(OPEN_STATUSES)
        )
        .exclude(panel__application=application)
        .order_by()
        .values("expert")
        .annotate(n=Count("pk"))
        .values("n")
    )
    experts = (
        users_with_roles([Role.EXPERT])
        .exclude(pk__in=[m.expert_id for m in members if m.excluded])
        .select_related("organisation")
        .annotate(open_load=Coalesce(Subquery(seats), 0))
        .order_by("full_name", "username")
    )
    listed = list(experts)
    profiles = _expert_profiles(listed, application)
    initial = {"experts": [m.expert_id for m in members if not m.excluded], "lead": panel.lead if panel else None}
    form = forms.PanelForm(_posted(request), experts=experts, profiles=profiles, initial=initial)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: services.panel_form(
                application=application,
                actor=request.user,
                experts=list(form.cleaned_data["experts"]),
                lead=form.cleaned_data["lead"],
            ),
        )
        if outcome.refusal:
            return _refused(request, application, outcome.refusal)
        if outcome.done:
            messages.success(
                request,
                _("评估专家组已调整，待市教委相关职能部门会同确认。")
                if panel
                else _("评估专家组已提出，待市教委相关职能部门会同确认。"),
            )
            return redirect("institutions:application_detail", pk=application.pk)
    context = {
        "application": application,
        "form": form,
        "conflicted": [e for e in listed if profiles[e.pk].conflict_here],
    }
    return render(request, "institutions/panel_form.html", context)


@roles_required(Role.EXPERT)
def findings(request: HttpRequest, pk: int) -> HttpResponse:
    application, refused = _step_page(request, pk, "record_findings")
    if refused:
        return refused
    panel = application.panel
    form = forms.FindingsForm(
        _posted(request),
        conditions=application.answers.all(),
        occupations=application.occupations.all(),
        findings=[f for f in panel.findings.all() if f.expert_id == request.user.pk],
        judgements=[j for j in panel.occupation_judgements.all() if j.expert_id == request.user.pk],
    )
    if request.method == "POST" and form.is_valid():
        conditions, occupations = form.filled()
        outcome = stepviews.perform(
            form,
            lambda: services.findings_record(
                application=application, actor=request.user, conditions=conditions, occupations=occupations
            ),
        )
        if outcome.refusal:
            return _refused(request, application, outcome.refusal)
        if outcome.done:
            messages.success(
                request,
                _("已保存您的评估发现：%(c)s项条件，%(o)s个职业（工种）。")
                % {"c": len(conditions), "o": len(occupations)},
            )
            return redirect("institutions:application_detail", pk=application.pk)
    context = {"application": application, "form": form, "answers": list(application.answers.all())}
    return render(request, "institutions/findings.html", context)


@roles_required(Role.EXPERT)
def conclude(request: HttpRequest, pk: int) -> HttpResponse:
    application, refused = _step_page(request, pk, "conclude")
    if refused:
        return refused
    form = forms.ConcludeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form,
            lambda: services.panel_conclude(
                application=application,
                actor=request.user,
                passed=form.cleaned_data["conclusion"] == PanelConclusion.PASS,
                opinion=form.cleaned_data["opinion"],
            ),
        )
        if outcome.refusal:
            return _refused(request, application, outcome.refusal, str(TRANSITIONS["conclude"].label))
        if outcome.done:
            messages.success(request, _("评估结论已签署。"))
            return redirect("institutions:application_detail", pk=application.pk)
    context = {
        "application": application,
        "form": form,
        "evaluation": _evaluation(application),
        "gaps": services.evaluation_gaps(application),
        "objections": services.evaluation_objections(application),
    }
    return render(request, "institutions/conclude.html", context)


@roles_required(Role.CENTRE_REVIEWER)
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    application, refused = _step_page(request, pk, "confirm")
    if refused:
        return refused
    # A renewal, an added occupation or a school filing again keeps its institution's codes.
    codes_needed = application.kind == ApplicationKind.INITIAL and application.institution_id is None
    initial = {"ministry_reported_on": timezone.localdate()}
    if codes_needed:
        initial.update(category_letter="S", ministry_code="0000", site_sequence=services.next_site_sequence())
    form = forms.ConfirmForm(_posted(request), initial=initial, codes_needed=codes_needed)
    if request.method == "POST" and form.is_valid():
        outcome = stepviews.perform(
            form, lambda: services.filing_confirm(application=application, actor=request.user, **form.cleaned_data)
        )
        if outcome.refusal:
            return _refused(request, application, outcome.refusal, str(TRANSITIONS["confirm"].label))
        if outcome.done:
            messages.success(request, _("已备案并列入目录，备案回执 %(n)s 已出具。") % {"n": outcome.result.number})
            return redirect("institutions:application_detail", pk=application.pk)
    context = {"application": application, "form": form, "codes_needed": codes_needed}
    return render(request, "institutions/confirm.html", context)


@roles_required(*VIEWER_ROLES)
def receipt_download(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(selectors.application_list(user=request.user).select_related("receipt"), pk=pk)
    receipt = getattr(application, "receipt", None)
    if receipt is None:
        raise Http404
    if not receipt.pdf:
        # Rendered after the confirmation committed; a render lost on the way is asked for again.
        if timezone.now() - receipt.issued_at > RECEIPT_RENDER_PATIENCE:
            from institutions.tasks import render_receipt

            enqueue(render_receipt, receipt.pk)
        context = {"application": application, "receipt": receipt, "refresh_seconds": 5}
        return render(request, "institutions/receipt_pending.html", context, status=202)
    return FileResponse(receipt.pdf.open("rb"), filename=f"{receipt.number}.pdf", content_type="application/pdf")
