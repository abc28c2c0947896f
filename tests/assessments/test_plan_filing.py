"""Evaluation plans and their filing with the centre (notice annex §4.1), on the workflow core."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assessments import services
from assessments.models import AssessmentMethod, PlanEvent, PlanStatus
from institutions import services as institution_services
from institutions.models import Institution
from portal.models import CalendarDay
from portal.workflow import TransitionError
from schools.models import Level
from tests import factories
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)  # a Thursday


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def filed():
    cast = Cast(factories.school())
    cast.filed()
    inst = Institution.objects.get(school=cast.school)
    return cast, inst, inst.occupations.get(), inst.sites.get()


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def plan(cast, inst, row, site, *, start: dt.date, level: int = Level.LEVEL_4, days: int = 1):
    return services.plan_create(
        institution=inst,
        actor=cast.staff,
        occupation=row,
        level=level,
        site=site,
        method=AssessmentMethod.RESULT,
        starts_at=at(start),
        ends_at=at(start + dt.timedelta(days=days - 1), 17),
    )


def test_rule_a_plan_is_filed_five_working_days_before_the_batch(filed):
    cast, inst, row, site = filed
    # Thursday 26 Nov → Thursday 3 Dec is 5 working days (27, 30 Nov, 1, 2, 3 Dec): accepted.
    ok = plan(cast, inst, row, site, start=dt.date(2026, 12, 3))
    ok = services.plan_submit(plan=ok, actor=cast.staff)
    assert ok.status == PlanStatus.SUBMITTED and ok.round == 1
    # Wednesday 2 Dec is only 4: refused with the number of days and what to do.
    early = plan(cast, inst, row, site, start=dt.date(2026, 12, 2))
    with pytest.raises(TransitionError) as exc:
        services.plan_submit(plan=early, actor=cast.staff)
    assert any("至少5个工作日" in m and "仅4个工作日" in m for m in exc.value.messages)
    early.refresh_from_db()
    assert early.status == PlanStatus.DRAFT and not PlanEvent.objects.filter(plan=early).exists()


def test_rule_the_lead_time_counts_working_days_of_the_calendar(filed, settings):
    cast, inst, row, site = filed
    CalendarDay.objects.update_or_create(date=dt.date(2026, 11, 30), defaults={"is_workday": False, "name": "测试假日"})
    with pytest.raises(TransitionError, match="仅4个工作日"):
        services.plan_submit(plan=plan(cast, inst, row, site, start=dt.date(2026, 12, 3)), actor=cast.staff)
    settings.PORTAL_PLAN_LEAD_WORKING_DAYS = 3  # configurable
    services.plan_submit(plan=plan(cast, inst, row, site, start=dt.date(2026, 12, 4)), actor=cast.staff)


def test_rule_a_year_the_calendar_does_not_know_is_refused_not_guessed(filed):
    cast, inst, row, site = filed
    late = plan(cast, inst, row, site, start=dt.date(2027, 3, 1))
    with pytest.raises(TransitionError, match="工作日历尚未包含2027年"):
        services.plan_submit(plan=late, actor=cast.staff)


def test_rule_only_a_filed_occupation_in_force_may_be_planned(filed):
    cast, inst, row, site = filed
    institution_services.directory_occupation_suspend(row=row, actor=cast.centre, reason="整改")
    with pytest.raises(ValidationError, match="不在有效的备案范围内"):
        plan(cast, inst, row, site, start=dt.date(2026, 12, 10))


def test_rule_a_plan_stays_inside_the_filed_validity(filed):
    cast, inst, row, site = filed
    past_end = row.valid_until + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="超出有效期"):
        plan(cast, inst, row, site, start=row.valid_until, days=(past_end - row.valid_until).days + 1)


def test_rule_a_level_outside_the_filed_range_is_refused(filed):
    cast, inst, row, site = filed
    assert (row.lowest_level, row.highest_level) == (Level.LEVEL_5, Level.LEVEL_3)
    with pytest.raises(ValidationError, match="备案的等级范围"):
        plan(cast, inst, row, site, start=dt.date(2026, 12, 10), level=Level.LEVEL_2)


def test_only_the_institutions_own_staff_plan_and_only_the_centre_decides(filed):
    cast, inst, row, site = filed
    outsider = factories.user("school_staff", organisation=factories.school().organisation)
    with pytest.raises(PermissionDenied):
        services.plan_create(
            institution=inst,
            actor=outsider,
            occupation=row,
            level=Level.LEVEL_4,
            site=site,
            method=AssessmentMethod.RESULT,
            starts_at=at(dt.date(2026, 12, 10)),
            ends_at=at(dt.date(2026, 12, 10), 17),
        )
    p = plan(cast, inst, row, site, start=dt.date(2026, 12, 10))
    with pytest.raises(PermissionDenied):
        services.plan_submit(plan=p, actor=outsider)
    services.plan_submit(plan=p, actor=cast.staff)
    with pytest.raises(PermissionDenied):
        services.plan_accept(plan=p, actor=cast.staff)
    with pytest.raises(ValidationError):
        services.plan_return(plan=p, actor=cast.centre, comment=" ")
    services.plan_return(plan=p, actor=cast.centre, comment="监考人员安排不足")
    p.refresh_from_db()
    assert p.status == PlanStatus.RETURNED
    services.plan_submit(plan=p, actor=cast.staff)
    services.plan_accept(plan=p, actor=cast.centre)
    p.refresh_from_db()
    assert (p.status, p.round) == (PlanStatus.ACCEPTED, 2)
    actions = list(p.events.values_list("action", "actor_id", "round"))
    assert actions == [
        ("submit", cast.staff.pk, 1),
        ("return", cast.centre.pk, 1),
        ("submit", cast.staff.pk, 2),
        ("accept", cast.centre.pk, 2),
    ]
    with pytest.raises(TransitionError):  # accepted: no second acceptance
        services.plan_accept(plan=p, actor=cast.centre)
