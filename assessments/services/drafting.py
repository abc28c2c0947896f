"""Editing a plan while the school may (draft, returned, or a change to an accepted plan): its
dates, site and method, the course-score substitution, and the process-assessment modules.

Every edit is checked against the same rules as a new plan (``plans.plan_problems``), and the
results due date follows the end date (``clock.results_due_refresh``).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import AssessmentMethod, EvaluationPlan, PlanModule
from assessments.services.plans import plan_problems
from institutions.models import AssessmentSite
from institutions.services.workflow import is_school_staff_of
from portal.i18n import stored
from portal.models import User
from portal.services import record


def _editable(plan: EvaluationPlan, actor: User) -> EvaluationPlan:
    """The plan locked for an edit; 403 for anyone but the school's staff, a message if it is filed."""
    if not is_school_staff_of(actor, plan.institution.school):
        raise PermissionDenied
    locked = EvaluationPlan.objects.select_for_update().get(pk=plan.pk)
    if not locked.is_editable:
        raise ValidationError(
            _("评价计划当前状态为“%(status)s”，不能修改；已备案的计划请先“变更已备案的计划”。")
            % {"status": locked.get_status_display()}
        )
    return locked


def _refresh_due(plan: EvaluationPlan) -> None:
    try:
        from assessments.services.clock import results_due_refresh
    except ImportError:  # pragma: no cover - the clock module arrives with the deadline work
        return
    results_due_refresh(plan)


def plan_update(
    *,
    plan: EvaluationPlan,
    actor: User,
    site: AssessmentSite,
    method: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    theory_by_course_score: bool = False,
    **ignored,
) -> EvaluationPlan:
    """Change dates, site and method. The occupation and level make another batch: a new plan."""
    if method not in AssessmentMethod.values:
        raise ValidationError(_("评价方式无效。"))
    with transaction.atomic():
        locked = _editable(plan, actor)
        problems = plan_problems(
            institution=locked.institution,
            occupation=locked.occupation,
            level=locked.level,
            site=site,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        if problems:
            raise ValidationError(problems)
        if method == AssessmentMethod.PROCESS:
            theory_by_course_score = False
        if site.pk != locked.site_id and locked.rooms.exists():
            raise ValidationError(_("本批次已安排考场：请先移除考场，再更换考核站点。"))
        locked.site, locked.method = site, method
        locked.starts_at, locked.ends_at = starts_at, ends_at
        locked.theory_by_course_score = theory_by_course_score
        record(locked, actor=actor, reason=stored(gettext_lazy("修改评价计划")))
        locked.save(update_fields=["site", "method", "starts_at", "ends_at", "theory_by_course_score"])
        _refresh_due(locked)
    return locked


def module_add(*, plan: EvaluationPlan, actor: User, code: str, name: str, course: str) -> PlanModule:
    """Process assessment (课证融通): map a course module to an assessment module."""
    code, name, course = code.strip(), name.strip(), course.strip()
    with transaction.atomic():
        locked = _editable(plan, actor)
        if locked.method != AssessmentMethod.PROCESS:
            raise ValidationError(_("只有过程考核（课证融通）的计划才设置考核模块。"))
        if not (code and name and course):
            raise ValidationError(_("请填写考核模块代码、考核模块名称和对应课程模块。"))
        if code in {"theory", "practical"}:
            raise ValidationError(_("考核模块代码“%(code)s”为系统保留，请换一个。") % {"code": code})
        module = PlanModule(plan=locked, code=code, name=name, course=course)
        record(module, actor=actor, reason=stored(gettext_lazy("设置考核模块")))
        try:
            with transaction.atomic():
                module.save()
        except IntegrityError:
            raise ValidationError(_("考核模块代码“%(code)s”在本计划中已存在。") % {"code": code}) from None
    return module


def module_remove(*, module: PlanModule, actor: User) -> None:
    with transaction.atomic():
        _editable(module.plan, actor)
        if module.plan.candidates.filter(scores__part=module.code).exists():
            raise ValidationError(_("该考核模块已有成绩，不能移除。"))
        record(module, actor=actor, reason=stored(gettext_lazy("移除考核模块")))
        module.delete()
