"""The results deadline job (issue 8 item 9), with a frozen clock: the school is reminded 2 working
days before the due day and on it; after it the batch is marked overdue and listed for the centre
and the district bureau; running the job again sends nothing twice; a late filing stays late.

The batch: accepted, last day Thursday 10 Dec 2026, so results are due Thursday 17 Dec
(Fri 11, Mon 14, Tue 15, Wed 16, Thu 17); 2 working days before is Tuesday 15 Dec.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import (
    AssessmentMethod,
    DeadlineReminder,
    PlanSnapshot,
    PlanStatus,
    ResultAction,
    ResultFiling,
    ResultStatus,
)
from assessments.services import clock
from assessments.tasks import run_results_deadlines
from institutions.models import Institution
from portal.models import Notification, Role
from schools.models import Level
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db
D = dt.date
LAST_DAY = D(2026, 12, 10)
DUE = D(2026, 12, 17)


@contextmanager
def on(day: dt.date, hour: int = 8):
    """The clock at ``hour`` (Shanghai) on ``day``."""
    with time_machine.travel(timezone.make_aware(dt.datetime.combine(day, dt.time(hour))), tick=False):
        yield


@pytest.fixture
def world():
    with on(D(2026, 11, 26), 17):
        cast = Cast(factories.school())
        cast.filed()
        inst = Institution.objects.get(school=cast.school)
        district = cast.school.organisation.district.code
        bureau = factories.user(
            Role.DISTRICT_HR_OFFICER, organisation=factories.organisation("district_hr", district_code=district)
        )
        elsewhere = factories.user(
            Role.DISTRICT_HR_OFFICER, organisation=factories.organisation("district_hr", district_code="310112")
        )
        yield cast, inst, bureau, elsewhere


def batch(cast, inst, last_day: dt.date = LAST_DAY, *, accept: bool = True):
    with on(D(2026, 11, 26), 17):
        plan = services.plan_create(
            institution=inst,
            actor=cast.staff,
            occupation=inst.occupations.get(),
            level=Level.LEVEL_4,
            site=inst.sites.get(),
            method=AssessmentMethod.RESULT,
            starts_at=timezone.make_aware(dt.datetime.combine(last_day, dt.time(9))),
            ends_at=timezone.make_aware(dt.datetime.combine(last_day, dt.time(17))),
        )
        plan = services.plan_submit(plan=plan, actor=cast.staff)
        if accept:
            plan = services.plan_accept(plan=plan, actor=cast.centre)
    return plan


def run(day: dt.date) -> dict:
    with on(day):
        return run_results_deadlines()


def inbox(user, plan):
    return Notification.objects.filter(recipient=user, link=reverse("assessments:plan_detail", args=[plan.pk]))


def test_results_due_date_is_set_when_the_batch_is_planned(world):
    cast, inst, _bureau, _elsewhere = world
    assert batch(cast, inst).results_due_on == DUE


def test_the_school_is_reminded_two_working_days_before_the_due_day_once(world):
    cast, inst, bureau, _elsewhere = world
    plan = batch(cast, inst)
    assert run(D(2026, 12, 14))["reminded_before"] == []  # Monday: 3 working days left
    assert run(D(2026, 12, 15))["reminded_before"] == [plan.pk]  # Tuesday: 16 and 17 left
    assert run(D(2026, 12, 15))["reminded_before"] == []  # the same day again
    assert run(D(2026, 12, 16))["reminded_before"] == []  # and the next
    reminders = inbox(cast.staff, plan)
    assert reminders.count() == 1 and "2026-12-17" in str(reminders.get().body)
    assert not inbox(bureau, plan).exists() and not inbox(cast.centre, plan).exists()
    assert DeadlineReminder.objects.filter(plan=plan, kind="before", due_on=DUE).count() == 1


def test_a_reminder_two_working_days_before_skips_the_weekend(world):
    cast, inst, _bureau, _elsewhere = world
    # Last day Tue 8 Dec: due Tue 15 Dec (9, 10, 11, 14, 15); Friday 11 has 14 and 15 left.
    plan = batch(cast, inst, D(2026, 12, 8))
    assert plan.results_due_on == D(2026, 12, 15)
    assert run(D(2026, 12, 10))["reminded_before"] == []
    assert run(D(2026, 12, 11))["reminded_before"] == [plan.pk]


def test_the_school_is_reminded_on_the_due_day_once(world):
    cast, inst, _bureau, _elsewhere = world
    plan = batch(cast, inst)
    run(D(2026, 12, 15))
    assert run(DUE)["reminded_due"] == [plan.pk]
    assert run(DUE)["reminded_due"] == []
    assert inbox(cast.staff, plan).count() == 2
    assert "今天" in str(inbox(cast.staff, plan).order_by("-pk").first().title)
    assert not ResultFiling.objects.filter(plan=plan).exists()  # not overdue on the day itself


def test_after_the_due_day_the_batch_is_marked_overdue_and_the_centre_and_its_district_are_told_once(world):
    cast, inst, bureau, elsewhere = world
    plan = batch(cast, inst)
    assert run(D(2026, 12, 18))["marked_overdue"] == [plan.pk]
    filing = ResultFiling.objects.get(plan=plan)
    assert filing.status == ResultStatus.OPEN and filing.overdue_since == D(2026, 12, 18)
    event = filing.events.get()
    assert event.action == ResultAction.MARK_OVERDUE and event.actor is None
    assert inbox(cast.centre, plan).count() == 1 and inbox(bureau, plan).count() == 1
    assert not inbox(elsewhere, plan).exists()  # another district's bureau
    assert inbox(cast.staff, plan).count() == 1
    # Running again, the next day too: nothing sent twice, the date not moved.
    assert run(D(2026, 12, 18))["marked_overdue"] == []
    assert run(D(2026, 12, 21))["marked_overdue"] == []
    filing.refresh_from_db()
    assert filing.overdue_since == D(2026, 12, 18) and filing.events.count() == 1
    assert inbox(cast.centre, plan).count() == 1 and inbox(bureau, plan).count() == 1


def test_a_missed_run_still_marks_the_batch_overdue_from_the_day_after_the_due_day(world):
    cast, inst, _bureau, _elsewhere = world
    plan = batch(cast, inst)
    run(D(2026, 12, 23))  # the job did not run for a week
    assert ResultFiling.objects.get(plan=plan).overdue_since == D(2026, 12, 18)


def test_only_accepted_batches_run_against_the_clock(world):
    cast, inst, _bureau, _elsewhere = world
    filed_only = batch(cast, inst, accept=False)
    assert filed_only.status == PlanStatus.SUBMITTED
    result = run(D(2026, 12, 18))
    assert filed_only.pk not in result["marked_overdue"]
    assert not ResultFiling.objects.filter(plan=filed_only).exists()


def test_a_batch_being_changed_after_acceptance_still_runs_against_the_clock(world):
    cast, inst, _bureau, _elsewhere = world
    plan = batch(cast, inst)
    # As a change to the accepted plan leaves it: amending, with the accepted version kept.
    PlanSnapshot.objects.update_or_create(
        plan=plan, round=plan.round, defaults={"accepted_at": timezone.now()}, create_defaults={"data": {}}
    )
    type(plan).objects.filter(pk=plan.pk).update(status=PlanStatus.AMENDING)
    assert run(D(2026, 12, 18))["marked_overdue"] == [plan.pk]


def test_filed_results_are_neither_reminded_nor_marked_overdue(world):
    cast, inst, _bureau, _elsewhere = world
    plan = batch(cast, inst)
    ResultFiling.objects.create(plan=plan, status=ResultStatus.SUBMITTED, round=1, submitted_at=timezone.now())
    assert run(D(2026, 12, 15))["reminded_before"] == []
    assert run(D(2026, 12, 18))["marked_overdue"] == []
    assert ResultFiling.objects.get(plan=plan).overdue_since is None


def test_a_late_filing_stays_visibly_late(world):
    cast, inst, _bureau, _elsewhere = world
    plan = batch(cast, inst)
    run(D(2026, 12, 18))
    # The results are filed on 21 Dec, as the results service does it: late, by clock.is_late.
    plan.refresh_from_db()
    assert clock.is_late(plan, D(2026, 12, 21)) and not clock.is_late(plan, DUE)
    ResultFiling.objects.filter(plan=plan).update(
        status=ResultStatus.SUBMITTED, round=1, submitted_at=timezone.now(), late=clock.is_late(plan, D(2026, 12, 21))
    )
    run(D(2026, 12, 22))
    filing = ResultFiling.objects.get(plan=plan)
    assert filing.late and filing.overdue_since == D(2026, 12, 18)
    with on(D(2026, 12, 22), 10):
        page = client_for(cast.centre).get(reverse("assessments:plan_detail", args=[plan.pk])).content.decode()
        assert 'data-testid="results-late"' in page and "逾期报送" in page
        listing = client_for(cast.centre).get(reverse("assessments:overdue_list")).content.decode()
    assert 'data-testid="late"' in listing and f"#{plan.pk}<" in listing


def test_an_overdue_batch_shows_its_days_overdue_on_the_batch_page(world):
    cast, inst, _bureau, _elsewhere = world
    plan = batch(cast, inst)
    run(D(2026, 12, 18))
    with on(D(2026, 12, 21), 10):
        page = client_for(cast.staff).get(reverse("assessments:plan_detail", args=[plan.pk])).content.decode()
    assert 'data-testid="results-overdue"' in page and "已逾期4天" in page


def test_overdue_batches_are_listed_for_the_centre_and_the_schools_district_only(world):
    cast, inst, bureau, elsewhere = world
    plan = batch(cast, inst)
    on_time = batch(cast, inst, D(2026, 12, 14))  # due 21 Dec: not yet overdue on the 18th
    run(D(2026, 12, 18))
    url = reverse("assessments:overdue_list")
    with on(D(2026, 12, 21), 10):
        pages = {
            who: client_for(user).get(url)
            for who, user in {
                "centre": cast.centre,
                "district": bureau,
                "elsewhere": elsewhere,
                "school": cast.staff,
                "other_school": factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation),
                "expert": cast.lead,
            }.items()
        }
    assert pages["expert"].status_code == 403
    listed = {who: f"#{plan.pk}<" in r.content.decode() for who, r in pages.items() if r.status_code == 200}
    assert listed == {"centre": True, "district": True, "elsewhere": False, "school": True, "other_school": False}
    centre_page = pages["centre"].content.decode()
    assert f"#{on_time.pk}<" not in centre_page
    assert 'data-testid="days-overdue">4<' in centre_page  # 17 Dec due, 21 Dec today
    assert [p.pk for p in clock.overdue_plans(cast.centre)] == [plan.pk]
    assert list(clock.overdue_plans(elsewhere)) == []


def test_the_overdue_list_keeps_a_constant_number_of_queries(world):
    cast, inst, _bureau, _elsewhere = world
    url = reverse("assessments:overdue_list")

    def queries() -> int:
        with on(D(2026, 12, 21), 10):
            client = client_for(cast.centre)
            client.get(url)  # the session's first request
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    batch(cast, inst)
    run(D(2026, 12, 18))
    few = queries()
    for _ in range(3):
        batch(cast, inst)
    run(D(2026, 12, 18))
    assert len(clock.overdue_plans(cast.centre)) == 4
    assert queries() == few


def test_the_deadline_job_is_scheduled_daily_with_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["results-deadlines"]
    assert entry["task"] == "assessments.tasks.run_results_deadlines"
    from portal.celery import app

    assert "assessments.tasks.run_results_deadlines" in app.tasks
