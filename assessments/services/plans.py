"""Evaluation plans (评价计划) and their filing with the appraisal centre (notice annex §4.1).

On the shared workflow core: the school drafts a plan for one filed occupation and level, at one
of its filed assessment sites, and files it with the centre a configurable number of working
days before the batch starts (``PORTAL_PLAN_LEAD_WORKING_DAYS``, default 5); the centre accepts
it or returns it with comments.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import AssessmentMethod, EvaluationPlan, PlanAction, PlanEvent, PlanStatus
from assessments.selectors import school_staff
from assessments.services import staffing
from assessments.services.clock import results_due_refresh
from institutions import selectors as institution_selectors
from institutions.models import AssessmentSite, Institution, InstitutionOccupation
from institutions.services.workflow import is_school_staff_of
from portal.access import users_with_roles
from portal.i18n import stored
from portal.models import Role, User
from portal.services import notify, record
from portal.workflow import Transition, TransitionError, Workflow, has_role
from schools.models import Level

S = PlanStatus
A = PlanAction


def _school_staff_of_plan(user, plan: EvaluationPlan) -> bool:
    return is_school_staff_of(user, plan.institution.school)


PLAN = Workflow(
    name="evaluation_plan",
    model=EvaluationPlan,
    event_model=PlanEvent,
    event_fields=lambda plan: {"plan": plan, "round": plan.round},
    lock_related=("institution__school__organisation",),
    state_message=gettext_lazy("评价计划当前状态为“%(status)s”，不能执行“%(action)s”。"),
    transitions=[
        Transition(
            A.SUBMIT,
            A.SUBMIT.label,
            frozenset({S.DRAFT, S.RETURNED, S.AMENDING}),
            _school_staff_of_plan,
            target=S.SUBMITTED,
        ),
        Transition(
            A.WITHDRAW,
            A.WITHDRAW.label,
            frozenset({S.DRAFT, S.SUBMITTED, S.RETURNED}),
            _school_staff_of_plan,
            target=S.WITHDRAWN,
            style="outline-danger",
        ),
        Transition(
            A.RETURN,
            A.RETURN.label,
            frozenset({S.SUBMITTED}),
            has_role(Role.CENTRE_REVIEWER),
            target=S.RETURNED,
            needs_comment=True,
            style="outline-warning",
        ),
        Transition(
            A.ACCEPT, A.ACCEPT.label, frozenset({S.SUBMITTED}), has_role(Role.CENTRE_REVIEWER), target=S.ACCEPTED
        ),
        # A change to an accepted plan (rooms, staff, dates, candidates) before the batch ends: the
        # accepted version stays in force until the change is filed and accepted (services.staffing).
        Transition(
            A.AMEND,
            A.AMEND.label,
            frozenset({S.ACCEPTED}),
            _school_staff_of_plan,
            target=S.AMENDING,
            guard=lambda plan: [] if plan.ends_at > timezone.now() else [_("本批次评价已结束，不能再变更评价计划。")],
            style="outline-primary",
        ),
    ],
)


def lead_working_days() -> int:
    return int(getattr(settings, "PORTAL_PLAN_LEAD_WORKING_DAYS", 5))


# --- Rules (annex §1.3, §3.3, §4.1) ---------------------------------------------------------


def plan_problems(
    *,
    institution: Institution,
    occupation: InstitutionOccupation,
    level: int,
    site: AssessmentSite,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> list[str]:
    """Why this batch cannot be planned: each reason a message for the school."""
    problems: list[str] = []
    if ends_at <= starts_at:
        problems.append(_("结束时间须晚于开始时间。"))
    if occupation.institution_id != institution.pk or site.institution_id != institution.pk:
        raise PermissionDenied
    name = f"「{occupation.occupation}」"
    first, last = timezone.localdate(starts_at), timezone.localdate(ends_at)
    for day in (first, last):
        plannable = institution_selectors.plannable_occupations(institution=institution, on=day)
        if not plannable.filter(pk=occupation.pk).exists():
            problems.append(
                _("%(o)s在%(d)s不在有效的备案范围内（机构或职业（工种）已暂停、移出或过期，或超出有效期%(end)s）。")
                % {
                    "o": name,
                    "d": day.isoformat(),
                    "end": min(occupation.valid_until, institution.valid_until).isoformat(),
                }
            )
            break
    if not occupation.lowest_level >= level >= occupation.highest_level:
        problems.append(
            _("%(o)s备案的等级范围为%(range)s，不能安排%(level)s。")
            % {"o": name, "range": occupation.level_range, "level": Level(level).label}
        )
    return problems


def _lead_time_problem(submitted_on: dt.date, starts_on: dt.date) -> str | None:
    """Annex §4.1: filed before the batch, at least ``PORTAL_PLAN_LEAD_WORKING_DAYS`` working days."""
    from portal.working_days import CalendarUnknownError, WorkCalendar

    needed = lead_working_days()
    try:
        available = WorkCalendar().working_days_between(submitted_on, starts_on) if starts_on > submitted_on else 0
    except CalendarUnknownError as exc:
        return _("工作日历尚未包含%(year)s年，无法计算报备期限（不作推测）；请联系系统管理员维护工作日历。") % {
            "year": exc.year
        }
    if available < needed:
        return _(
            "评价计划须在评价开始前至少%(n)s个工作日报市职鉴中心备案：开始日期%(start)s距今仅%(have)s个工作日。"
            "请推迟开始时间，或联系市职鉴中心。"
        ) % {"n": needed, "start": starts_on.isoformat(), "have": available}
    return None


# --- School ---------------------------------------------------------------------------------


def plan_create(
    *,
    institution: Institution,
    actor: User,
    occupation: InstitutionOccupation,
    level: int,
    site: AssessmentSite,
    method: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    theory_by_course_score: bool = False,
) -> EvaluationPlan:
    if not is_school_staff_of(actor, institution.school):
        raise PermissionDenied
    if method not in AssessmentMethod.values:
        raise ValidationError(_("评价方式无效。"))
    problems = plan_problems(
        institution=institution, occupation=occupation, level=level, site=site, starts_at=starts_at, ends_at=ends_at
    )
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        plan = EvaluationPlan(
            institution=institution,
            occupation=occupation,
            level=level,
            site=site,
            method=method,
            starts_at=starts_at,
            ends_at=ends_at,
            theory_by_course_score=theory_by_course_score and method == AssessmentMethod.RESULT,
            created_by=actor,
        )
        results_due_refresh(plan, save=False)
        record(plan, actor=actor, reason=stored(gettext_lazy("新建评价计划")))
        plan.save()
    return plan


def _tell(recipients, plan: EvaluationPlan, title, body: str = "") -> None:
    notify(
        recipients=list(recipients),
        title=stored(gettext_lazy("%(title)s：%(school)s"), title=title, school=plan.institution.name),
        body=body,
        link=reverse("home"),
    )


def plan_submit(*, plan: EvaluationPlan, actor: User) -> EvaluationPlan:
    """File the plan with the centre; the rules are checked again against today and the calendar."""
    with PLAN.step(A.SUBMIT, plan, actor) as locked:
        problems = plan_problems(
            institution=locked.institution,
            occupation=locked.occupation,
            level=locked.level,
            site=locked.site,
            starts_at=locked.starts_at,
            ends_at=locked.ends_at,
        )
        # A change to an accepted plan keeps its dates out of the lead-time rule unless it moves them.
        if staffing.dates_changed_since_accepted(locked) is not False:
            lead = _lead_time_problem(timezone.localdate(), timezone.localdate(locked.starts_at))
            if lead:
                problems.append(lead)
        problems.extend(staffing.staffing_problems(locked))
        if problems:
            raise TransitionError(problems)
        locked.round += 1
        locked.submitted_at = timezone.now()
        PLAN.move(locked, A.SUBMIT, actor=actor, fields=("round", "submitted_at"))
        staffing.snapshot_take(locked)  # what was filed in this round, for the centre's comparison
        _tell(users_with_roles([Role.CENTRE_REVIEWER]), locked, gettext_lazy("新的评价计划待备案"))
    return locked


def plan_withdraw(*, plan: EvaluationPlan, actor: User, comment: str = "") -> EvaluationPlan:
    with PLAN.step(A.WITHDRAW, plan, actor) as locked:
        PLAN.move(locked, A.WITHDRAW, actor=actor, comment=comment.strip())
    return locked


def plan_amend(*, plan: EvaluationPlan, actor: User, comment: str = "") -> EvaluationPlan:
    """Open an accepted plan for a change (rooms, staff, dates, candidates); it is filed again with
    ``plan_submit`` and the centre sees what changed since the accepted version. Until the change is
    accepted, the accepted version (its snapshot) stays in force."""
    with PLAN.step(A.AMEND, plan, actor) as locked:
        PLAN.move(locked, A.AMEND, actor=actor, comment=comment.strip())
    return locked


# --- Centre ---------------------------------------------------------------------------------


def plan_return(*, plan: EvaluationPlan, actor: User, comment: str) -> EvaluationPlan:
    if not comment.strip():
        raise ValidationError(_("退回修改须写明需要修改的内容。"))
    with PLAN.step(A.RETURN, plan, actor) as locked:
        PLAN.move(locked, A.RETURN, actor=actor, comment=comment.strip())
        staff = school_staff(locked)
        _tell(staff, locked, gettext_lazy("评价计划被退回修改"), comment.strip())
    return locked


def plan_accept(*, plan: EvaluationPlan, actor: User, comment: str = "") -> EvaluationPlan:
    with PLAN.step(A.ACCEPT, plan, actor) as locked:
        PLAN.move(locked, A.ACCEPT, actor=actor, comment=comment.strip())
        staffing.snapshot_accept(locked)
        staff = school_staff(locked)
        _tell(staff, locked, gettext_lazy("评价计划已备案"))
    return locked
