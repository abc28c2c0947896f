"""A batch ready for results, shared by the results tests: a filed institution, a plan filed on
26 Nov 2026 for 3 Dec 2026 (due 10 Dec) and accepted, candidates added directly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import time_machine
from django.utils import timezone

from assessments import services
from assessments.models import AssessmentMethod, BatchStaff, Candidate, Duty, EvaluationPlan, PlanModule
from institutions.models import Institution
from portal.models import Role
from schools.models import Level
from tests import factories
from tests.institutions.builders import Cast

FILED_ON = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)  # a Thursday
BATCH_DAY = dt.date(2026, 12, 3)
AFTER_BATCH = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
DUE = dt.date(2026, 12, 10)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@dataclass
class Batch:
    cast: Cast
    plan: EvaluationPlan
    candidates: list[Candidate] = field(default_factory=list)
    supervisor: object = None

    @property
    def staff(self):
        return self.cast.staff

    @property
    def centre(self):
        return self.cast.centre


def batch(
    n: int = 3,
    *,
    method: str = AssessmentMethod.RESULT,
    substitution: bool = False,
    modules: tuple[str, ...] = (),
    cast: Cast | None = None,
) -> Batch:
    """An accepted batch with ``n`` candidates; the clock is left on 26 Nov (travel on to act)."""
    with time_machine.travel(FILED_ON, tick=False):
        if cast is None:
            cast = Cast(factories.school())
            cast.filed()
        inst = Institution.objects.get(school=cast.school)
        plan = services.plan_create(
            institution=inst,
            actor=cast.staff,
            occupation=inst.occupations.get(),
            level=Level.LEVEL_4,
            site=inst.sites.get(),
            method=method,
            starts_at=at(BATCH_DAY),
            ends_at=at(BATCH_DAY, 17),
        )
        plan.theory_by_course_score = substitution
        plan.save(update_fields=["theory_by_course_score"])
        for code in modules:
            PlanModule.objects.create(plan=plan, code=code, name=f"模块{code}", course=f"课程{code}")
        services.plan_submit(plan=plan, actor=cast.staff)
        services.plan_accept(plan=plan, actor=cast.centre)
        plan.refresh_from_db()
        supervisor = factories.user(Role.EXPERT)
        BatchStaff.objects.create(plan=plan, person=supervisor, duty=Duty.INTERNAL_SUPERVISOR, added_by=cast.staff)
        out = Batch(cast=cast, plan=plan, supervisor=supervisor)
        add_candidates(out, n)
    return out


def add_candidates(b: Batch, n: int) -> list[Candidate]:
    major = b.cast.school.majors.first() or factories.major(b.cast.school)
    added = []
    for _ in range(n):
        student = factories.student(major)
        added.append(
            Candidate.objects.create(
                plan=b.plan,
                student=student,
                occupation=b.plan.occupation.occupation,
                level=b.plan.level,
                added_round=b.plan.round,
                added_by=b.staff,
            )
        )
    b.candidates.extend(added)
    return added
