"""External quality supervision of a batch (外部质量督导, notice annex §2.4 and §4.2).

The appraisal centre, or the district HR bureau of the school's district, assigns quality
supervisors to a filed batch (and may take one off again while nothing is recorded). A supervisor
sees that batch only (``selectors.plan_list``), records visits and findings (irregularities with
evidence files, required fixes) and files a report, read-only once filed, which the centre and
the district bureau read. The school's staff answer each required fix.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import (
    EvaluationPlan,
    FindingEvidence,
    FindingKind,
    PlanStatus,
    SupervisingBody,
    SupervisionAssignment,
    SupervisionFinding,
    SupervisionVisit,
)
from institutions.services.drafting import checked_evidence_files
from institutions.services.workflow import is_school_staff_of
from portal.access import users_with_roles
from portal.i18n import stored
from portal.models import Role, User
from portal.services import notify, record
from portal.workflow import TransitionError

# A batch is supervised once it is filed with the centre (submitted, accepted, or being changed
# while its accepted version stays in force).
FILED_STATUSES = frozenset({PlanStatus.SUBMITTED, PlanStatus.ACCEPTED, PlanStatus.AMENDING})


# --- Who may do what ------------------------------------------------------------------------


def _school(plan: EvaluationPlan):
    return plan.institution.school


def assigning_body(user, plan: EvaluationPlan) -> str | None:
    """The body in whose name ``user`` may assign supervisors to ``plan``: the centre or the
    municipal HR bureau (annex §4.2: 市、区人力资源社会保障部门), or the district bureau of the
    school's district; None for anyone else."""
    if not (user and user.is_authenticated):
        return None
    if user.has_role(Role.CENTRE_REVIEWER):
        return SupervisingBody.CENTRE
    if user.has_role(Role.MUNICIPAL_HR_OFFICER):
        return SupervisingBody.MUNICIPAL_HR
    if user.has_role(Role.DISTRICT_HR_OFFICER) and user.organisation is not None:
        district = user.organisation.district_id
        if district and district == _school(plan).organisation.district_id:
            return SupervisingBody.DISTRICT
    return None


def may_assign(user, plan: EvaluationPlan) -> bool:
    return assigning_body(user, plan) is not None


def is_supervisor_of(user, assignment: SupervisionAssignment) -> bool:
    return bool(user and user.is_authenticated and assignment.supervisor_id == user.pk)


def may_answer(user, plan: EvaluationPlan) -> bool:
    return is_school_staff_of(user, _school(plan))


def _readers(plan: EvaluationPlan) -> list[User]:
    """Who reads the supervision of a batch: the centre and the district bureau of the school's district."""
    centre = users_with_roles([Role.CENTRE_REVIEWER])
    district = users_with_roles([Role.DISTRICT_HR_OFFICER]).filter(
        organisation__district_id=_school(plan).organisation.district_id
    )
    return [*centre, *district]


def _tell(recipients, plan: EvaluationPlan, title, body: str = "") -> None:
    notify(
        recipients=list(recipients),
        title=stored(
            gettext_lazy("%(title)s：%(school)s 评价计划 #%(n)s"), title=title, school=plan.institution.name, n=plan.pk
        ),
        body=body,
        link=reverse("assessments:plan_detail", args=[plan.pk]),
    )


def _locked_plan(plan: EvaluationPlan) -> EvaluationPlan:
    return (
        EvaluationPlan.objects.select_for_update().select_related("institution__school__organisation").get(pk=plan.pk)
    )


def _locked_assignment(assignment: SupervisionAssignment) -> SupervisionAssignment:
    return (
        SupervisionAssignment.objects.select_for_update(of=("self",))
        .select_related("plan__institution__school__organisation", "supervisor")
        .get(pk=assignment.pk)
    )


# --- Assignment (centre, district bureau) ---------------------------------------------------


def supervisor_assign(*, plan: EvaluationPlan, actor: User, supervisor: User) -> SupervisionAssignment:
    body = assigning_body(actor, plan)
    if body is None:
        raise PermissionDenied
    if not (supervisor.is_active and supervisor.has_role(Role.QUALITY_SUPERVISOR)):
        raise ValidationError(_("“%(name)s”不是质量督导员，不能派往督导。") % {"name": supervisor})
    with transaction.atomic():
        locked = _locked_plan(plan)
        if locked.status not in FILED_STATUSES:
            raise TransitionError(
                _("评价计划当前状态为“%(status)s”，只有已报备的评价计划才能派出质量督导员。")
                % {"status": locked.get_status_display()}
            )
        if SupervisionAssignment.objects.filter(plan=locked, supervisor=supervisor).exists():
            raise ValidationError(_("督导员“%(name)s”已派往本批次。") % {"name": supervisor})
        assignment = SupervisionAssignment(plan=locked, supervisor=supervisor, body=body, assigned_by=actor)
        record(assignment, actor=actor, reason=stored(gettext_lazy("派出外部质量督导员")))
        assignment.save()
        _tell([supervisor], locked, gettext_lazy("您被派往督导评价批次"))
    return assignment


def supervisor_unassign(*, assignment: SupervisionAssignment, actor: User) -> None:
    """Taken off again by the centre or the district bureau, while the supervisor has recorded nothing."""
    if not may_assign(actor, assignment.plan):
        raise PermissionDenied
    with transaction.atomic():
        locked = _locked_assignment(assignment)
        if locked.visits.exists() or locked.findings.exists() or locked.report_filed_at:
            raise TransitionError(_("督导员“%(name)s”已记录督导情况，不能撤销派出。") % {"name": locked.supervisor})
        record(locked, actor=actor, reason=stored(gettext_lazy("撤销派出外部质量督导员")))
        locked.delete()


# --- The supervisor's record ----------------------------------------------------------------


def _open_for(assignment: SupervisionAssignment, actor: User) -> SupervisionAssignment:
    """The assignment locked for the supervisor's record: 403 for anyone else, 409 once the report is filed."""
    if not is_supervisor_of(actor, assignment):
        raise PermissionDenied
    locked = _locked_assignment(assignment)
    if locked.report_filed_at:
        raise TransitionError(_("督导报告已提交，督导记录不能再修改。"))
    return locked


def visit_record(
    *, assignment: SupervisionAssignment, actor: User, visited_at: dt.datetime, notes: str
) -> SupervisionVisit:
    notes = (notes or "").strip()
    if not notes:
        raise ValidationError(_("请填写督导记录。"))
    if visited_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError(
            _("督导时间不能晚于现在（%(now)s）。") % {"now": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
        )
    with transaction.atomic():
        locked = _open_for(assignment, actor)
        visit = SupervisionVisit(assignment=locked, visited_at=visited_at, notes=notes)
        record(visit, actor=actor, reason=stored(gettext_lazy("记录督导情况")))
        visit.save()
    return visit


def finding_add(
    *, assignment: SupervisionAssignment, actor: User, kind: str, description: str, uploads=()
) -> SupervisionFinding:
    """An irregularity or a required fix, with its evidence files; the school is told of a required fix."""
    description = (description or "").strip()
    uploads = [u for u in uploads if u]
    problems = []
    if kind not in FindingKind.values:
        problems.append(_("请选择督导发现的类型（违规问题或整改要求）。"))
    if not description:
        problems.append(_("请填写情况描述。"))
    kinds, file_problems = checked_evidence_files(uploads)
    problems += file_problems
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        locked = _open_for(assignment, actor)
        finding = SupervisionFinding(assignment=locked, kind=kind, description=description)
        record(finding, actor=actor, reason=stored(gettext_lazy("记录督导发现")))
        finding.save()
        for upload, checked in zip(uploads, kinds, strict=True):
            evidence = FindingEvidence(
                finding=finding, original_name=upload.name[:200], content_type=checked.mime, size=upload.size
            )
            evidence.file.save(f"{checked.extension}.{checked.extension}", upload, save=False)
            evidence.save()
        if kind == FindingKind.REQUIRED_FIX:
            plan = locked.plan
            staff = users_with_roles([Role.SCHOOL_STAFF], organisation=_school(plan).organisation)
            _tell(staff, plan, gettext_lazy("督导提出整改要求，请答复"), description)
    return finding


def report_file(*, assignment: SupervisionAssignment, actor: User, report: str) -> SupervisionAssignment:
    """The supervisor's report, once: read-only afterwards; the centre and the district bureau are told."""
    report = (report or "").strip()
    if not report:
        raise ValidationError(_("请填写督导报告。"))
    with transaction.atomic():
        locked = _open_for(assignment, actor)
        locked.report = report
        locked.report_filed_at = timezone.now()
        record(locked, actor=actor, reason=stored(gettext_lazy("提交督导报告")))
        locked.save(update_fields=["report", "report_filed_at"])
        _tell(_readers(locked.plan), locked.plan, gettext_lazy("外部质量督导报告已提交"))
    return locked


# --- The school's answer --------------------------------------------------------------------


def fix_answer(*, finding: SupervisionFinding, actor: User, answer: str) -> SupervisionFinding:
    """The school's answer to a required fix (it may be completed later; each version is kept in the history)."""
    plan = finding.assignment.plan
    if not may_answer(actor, plan):
        raise PermissionDenied
    if finding.kind != FindingKind.REQUIRED_FIX:
        raise TransitionError(_("只有整改要求需要学校答复。"))
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError(_("请填写整改情况。"))
    with transaction.atomic():
        locked = SupervisionFinding.objects.select_for_update().get(pk=finding.pk)
        locked.answer = answer
        locked.answered_by = actor
        locked.answered_at = timezone.now()
        record(locked, actor=actor, reason=stored(gettext_lazy("学校答复整改要求")))
        locked.save(update_fields=["answer", "answered_by", "answered_at"])
        _tell([finding.assignment.supervisor, *_readers(plan)], plan, gettext_lazy("学校已答复整改要求"), answer)
    return locked
