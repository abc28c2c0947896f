"""The two state machines of this app, on the shared core (``portal.workflow``).

- ``APPLICATION``: a filing application, from draft to filed (notice annex §3.1–3.3).
- ``DIRECTORY``: an institution's directory entry: suspend, restore, remove, renew, expire.
- ``DIRECTORY_OCCUPATION``: one filed occupation's row: suspend, restore, remove on its own; renew, expire.

Who may act is a policy here; the services never test role names themselves.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from institutions.models import (
    ApplicationAction,
    ApplicationEvent,
    ApplicationStatus,
    ConsentBody,
    FilingApplication,
    Institution,
    InstitutionEvent,
    InstitutionOccupation,
    InstitutionStatus,
    PanelMember,
)
from portal.models import Role, User
from portal.workflow import Transition, Workflow, all_of, has_role, system

S = ApplicationStatus
A = ApplicationAction
D = InstitutionStatus

EVALUATE_PERM = "institutions.evaluate_filingapplication"
# Oversight acts on the directory with its own authority (a sanction decided on a violation case).
SANCTION = "sanction"
# A system administrator acting in the admin, with a reason (institutions/admin.py).
ADMINISTRATION = "administration"

# --- Policies ---------------------------------------------------------------------------


def is_school_staff_of(user: User | None, school) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and user.has_role(Role.SCHOOL_STAFF)
        and user.organisation_id == school.organisation_id
    )


def applicant(user, application: FilingApplication) -> bool:
    """School staff of the applying school."""
    return is_school_staff_of(user, application.school)


def panel_member_of(application: FilingApplication, user) -> PanelMember | None:
    panel = getattr(application, "panel", None)
    if panel is None or user is None or not user.is_authenticated or not user.has_role(Role.EXPERT):
        return None
    return next((m for m in panel.members.all() if m.expert_id == user.pk and not m.excluded), None)


def panel_member(user, application: FilingApplication) -> bool:
    return panel_member_of(application, user) is not None


def panel_lead(user, application: FilingApplication) -> bool:
    member = panel_member_of(application, user)
    return member is not None and member.is_lead


def consent_body_of(user) -> str | None:
    if user is None or not user.is_authenticated:
        return None
    if user.has_role(Role.MUNICIPAL_HR_OFFICER):
        return ConsentBody.MUNICIPAL_HR
    if user.has_role(Role.COMMISSION_OFFICER):
        return ConsentBody.COMMISSION
    return None


def undecided_consent_body(user, application: FilingApplication) -> bool:
    """The municipal HR bureau and the commission each decide once."""
    body = consent_body_of(user)
    return body is not None and not any(c.body == body for c in application.consents.all())


# --- Guards -----------------------------------------------------------------------------


def panel_not_signed(application: FilingApplication) -> list[str]:
    panel = getattr(application, "panel", None)
    if panel is not None and panel.conclusion:
        return [gettext_lazy("评估结论已签署，不能再调整专家组或修改评估发现。")]
    return []


def panel_formed(application: FilingApplication) -> list[str]:
    if getattr(application, "panel", None) is None:
        return [gettext_lazy("尚未组建评估专家组。")]
    return panel_not_signed(application)


def panel_awaiting_agreement(application: FilingApplication) -> list[str]:
    problems = panel_formed(application)
    if not problems and application.panel.is_agreed:
        problems = [gettext_lazy("评估专家组已会同确认。")]
    return problems


def panel_agreed(application: FilingApplication) -> list[str]:
    """Annex §3.2: the centre and the commission's department organise the evaluation together."""
    problems = panel_formed(application)
    if not problems and not application.panel.is_agreed:
        problems = [gettext_lazy("评估专家组尚待市教委相关职能部门会同确认。")]
    return problems


# --- The filing application -------------------------------------------------------------

APPLICATION = Workflow(
    name="filing_application",
    model=FilingApplication,
    event_model=ApplicationEvent,
    event_fields=lambda app: {"application": app, "round": app.round},
    lock_related=("school__organisation",),
    state_message=gettext_lazy("申请当前状态为“%(status)s”，不能执行“%(action)s”。"),
    transitions=[
        Transition(
            A.SUBMIT,
            A.SUBMIT.label,
            frozenset({S.DRAFT, S.RETURNED}),
            applicant,
            target=S.SUBMITTED,
            hint=gettext_lazy(
                "提交后由市教委相关职能部门受理；受理前可撤回，退回后可修改再提交。"
                "学校对材料的真实性、有效性、合法性负责。"
            ),
        ),
        Transition(
            A.WITHDRAW,
            A.WITHDRAW.label,
            frozenset({S.DRAFT, S.SUBMITTED, S.RETURNED}),
            applicant,
            target=S.WITHDRAWN,
            style="outline-danger",
            hint=gettext_lazy("撤回后申请办结，不能恢复；如需再申请，请新建备案申请。"),
        ),
        Transition(
            A.RETURN,
            A.RETURN.label,
            frozenset({S.SUBMITTED}),
            has_role(Role.COMMISSION_DEPT_OFFICER),
            target=S.RETURNED,
            needs_comment=True,
            style="outline-warning",
            hint=gettext_lazy("请写明需要学校补正的内容，学校修改后可重新提交。"),
        ),
        Transition(
            A.ACCEPT,
            A.ACCEPT.label,
            frozenset({S.SUBMITTED}),
            has_role(Role.COMMISSION_DEPT_OFFICER),
            target=S.UNDER_EVALUATION,
            hint=gettext_lazy("受理后由市职鉴中心会同市教委相关职能部门组织技术评估。"),
        ),
        Transition(
            A.FORM_PANEL,
            A.FORM_PANEL.label,
            frozenset({S.UNDER_EVALUATION}),
            has_role(Role.CENTRE_REVIEWER),
            guard=panel_not_signed,
        ),
        Transition(
            A.AGREE_PANEL,
            A.AGREE_PANEL.label,
            frozenset({S.UNDER_EVALUATION}),
            has_role(Role.COMMISSION_DEPT_OFFICER),
            guard=panel_awaiting_agreement,
            hint=gettext_lazy(
                "技术评估由市职鉴中心会同市教委相关职能部门组织（附件第三条第（二）项）。"
                "确认后专家即可记录评估发现；如有意见，请与市职鉴中心沟通调整专家组。"
            ),
        ),
        Transition(
            A.RECORD_FINDINGS,
            A.RECORD_FINDINGS.label,
            frozenset({S.UNDER_EVALUATION}),
            panel_member,
            guard=panel_agreed,
        ),
        Transition(
            A.DECLARE_CONFLICT,
            A.DECLARE_CONFLICT.label,
            frozenset({S.UNDER_EVALUATION}),
            panel_member,
            guard=panel_formed,
            needs_comment=True,
            style="outline-danger",
            hint=gettext_lazy("申报后您将回避本次评估，不能再查看本申请。请说明利益冲突的情形。"),
        ),
        Transition(
            A.CONCLUDE,
            A.CONCLUDE.label,
            frozenset({S.UNDER_EVALUATION}),
            panel_lead,
            guard=panel_agreed,
        ),
        Transition(
            A.CONSENT,
            A.CONSENT.label,
            frozenset({S.AWAITING_CONSENT}),
            undecided_consent_body,
            hint=gettext_lazy(
                "市人社局、市教委均同意后，由市职鉴中心报部备案并出具备案回执；任一方不同意，备案不予通过。"
            ),
        ),
        Transition(
            A.CONFIRM,
            A.CONFIRM.label,
            frozenset({S.CONSENTED}),
            has_role(Role.CENTRE_REVIEWER),
            target=S.FILED,
        ),
    ],
)

# --- The directory ------------------------------------------------------------------------

_centre = has_role(Role.CENTRE_REVIEWER)


def _listing_steps(*, restore_guard=None) -> list[Transition]:
    """Suspend, restore and remove, alike for an institution and for one of its occupations:
    the centre acts; oversight suspends or removes with a sanction; an administrator with a reason."""
    return [
        Transition(
            "suspend",
            pgettext_lazy("action", "暂停"),
            frozenset({D.ACTIVE}),
            _centre,
            target=D.SUSPENDED,
            authorities=frozenset({SANCTION, ADMINISTRATION}),
            needs_comment=True,
            style="outline-warning",
        ),
        Transition(
            "restore",
            gettext_lazy("恢复"),
            frozenset({D.SUSPENDED}),
            _centre,
            target=D.ACTIVE,
            guard=restore_guard,
            authorities=frozenset({ADMINISTRATION}),
            needs_comment=True,
            style="outline-success",
        ),
        Transition(
            "remove",
            gettext_lazy("移出目录"),
            frozenset({D.ACTIVE, D.SUSPENDED, D.EXPIRED}),
            _centre,
            target=D.REMOVED,
            authorities=frozenset({SANCTION, ADMINISTRATION}),
            needs_comment=True,
            style="outline-danger",
        ),
    ]

DIRECTORY = Workflow(
    name="directory",
    model=Institution,
    event_model=InstitutionEvent,
    event_fields=lambda inst: {"institution": inst},
    lock_related=("school__organisation",),
    state_message=gettext_lazy("机构当前状态为“%(status)s”，不能%(action)s。"),
    transitions=[
        *_listing_steps(),
        Transition(
            "renew",
            gettext_lazy("延续备案"),
            frozenset({D.ACTIVE, D.EXPIRED}),
            _centre,
            target=D.ACTIVE,
            needs_comment=True,
        ),
        Transition("expire", gettext_lazy("有效期届满，自动过期"), frozenset({D.ACTIVE}), system, target=D.EXPIRED),
        # A school whose filing expired or was removed files again through the whole review path;
        # its confirmation lists the same institution (and its codes) again.
        Transition(
            "relist",
            gettext_lazy("重新备案，列入目录"),
            frozenset({D.EXPIRED, D.REMOVED}),
            _centre,
            target=D.ACTIVE,
        ),
    ],
)


def institution_not_removed(row: InstitutionOccupation) -> list[str]:
    if row.institution.status == D.REMOVED:
        return [gettext_lazy("该机构已移出目录，其职业（工种）不能恢复；须重新申请备案。")]
    return []


def occupation_in_date(row: InstitutionOccupation) -> list[str]:
    if row.valid_until < timezone.localdate():
        return [gettext_lazy("该职业（工种）的有效期已届满，不能恢复；须申请延续备案。")]
    return []


def occupation_restorable(row: InstitutionOccupation) -> list[str]:
    return institution_not_removed(row) or occupation_in_date(row)


# One filed occupation, on its own (notice annex §3.5; DOMAIN "Directory"): the centre, or oversight
# with a sanction, suspends or removes it with a public reason while the institution stays listed.
DIRECTORY_OCCUPATION = Workflow(
    name="directory_occupation",
    model=InstitutionOccupation,
    event_model=InstitutionEvent,
    event_fields=lambda row: {"institution_id": row.institution_id, "occupation": row},
    lock_related=("institution__school__organisation", "occupation"),
    state_message=gettext_lazy("该职业（工种）当前状态为“%(status)s”，不能%(action)s。"),
    transitions=[
        *_listing_steps(restore_guard=occupation_restorable),
        Transition("expire", gettext_lazy("有效期届满，自动过期"), frozenset({D.ACTIVE}), system, target=D.EXPIRED),
        Transition(
            "renew",
            gettext_lazy("延续备案"),
            frozenset({D.ACTIVE, D.EXPIRED}),
            all_of(_centre),
            target=D.ACTIVE,
        ),
    ],
)

# Views and older callers read these.
TRANSITIONS = APPLICATION.table
DIRECTORY_SOURCES = {name: DIRECTORY[name].sources for name in ("suspend", "restore", "remove", "renew")}


def may(action: str, application: FilingApplication, user) -> bool:
    return APPLICATION.may(action, application, user)


def available_actions(application: FilingApplication, user) -> list[tuple[str, Transition]]:
    """The steps the page offers: the same check the services make."""
    return [(t.name, t) for t in APPLICATION.available(application, user)]


def check_step(action: str, application: FilingApplication, actor) -> None:
    APPLICATION.check(action, application, actor)
