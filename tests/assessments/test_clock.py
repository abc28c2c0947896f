"""The 5-working-day results clock (notice annex §4.3, issue 8 item 8): results are due 5 working
days after the batch's last day on the portal's working-day calendar, shown on the plan, and never
guessed for a year the calendar does not know.

The expected dates were counted by hand from the official 2026 arrangement (国办发明电〔2025〕7号),
which the calendar seeded from chinesecalendar 1.11 holds (checked first in each test):
Spring Festival 2月15日至23日放假调休共9天, 2月14日（周六）、2月28日（周六）上班; Mid-Autumn
9月25日至27日; National Day 10月1日至7日放假, 9月20日（周日）、10月10日（周六）上班.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import AssessmentMethod, EvaluationPlan
from assessments.services import clock
from institutions.models import Institution
from portal.models import CalendarDay, CalendarYear, Notification, Role
from portal.services import calendar_year_publish
from portal.working_days import WorkCalendar
from schools.models import Level
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db
D = dt.date


def test_the_seeded_calendar_holds_the_official_2026_arrangement():
    """What the hand-counted dates below rest on, read from the calendar the portal uses."""
    cal = WorkCalendar()
    spring = [D(2026, 2, 15) + dt.timedelta(days=i) for i in range(9)]
    assert not any(cal.is_workday(d) for d in spring)  # 2月15日至23日
    assert cal.is_workday(D(2026, 2, 14)) and cal.is_workday(D(2026, 2, 28))  # Saturdays worked
    assert not any(cal.is_workday(D(2026, 10, d)) for d in range(1, 8))  # 10月1日至7日
    assert cal.is_workday(D(2026, 9, 20)) and cal.is_workday(D(2026, 10, 10))  # Sunday and Saturday worked
    assert not any(cal.is_workday(D(2026, 9, d)) for d in (25, 26, 27))  # Mid-Autumn
    assert CalendarDay.objects.get(date=D(2026, 2, 16)).name == "春节"
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_results_due_five_working_days_after_last_day_skipping_spring_festival():
    # Friday 13 Feb: Sat 14 (make-up workday) is 1; 15–23 off; Tue 24, 25, 26, Fri 27 are 2–5.
    assert clock.results_due(D(2026, 2, 13)) == (D(2026, 2, 27), None)
    # Thursday 12 Feb: Fri 13, Sat 14, then 24, 25, 26.
    assert clock.results_due(D(2026, 2, 12)) == (D(2026, 2, 26), None)


def test_results_due_counts_the_make_up_saturday_after_spring_festival():
    # A batch on the last holiday: Tue 24 … Fri 27 are 1–4, Saturday 28 (worked) is the 5th.
    assert clock.results_due(D(2026, 2, 23)) == (D(2026, 2, 28), None)
    # One working day after Friday 13 Feb is the worked Saturday 14.
    assert clock.results_due(D(2026, 2, 13), days=1) == (D(2026, 2, 14), None)


def test_results_due_skips_national_day_and_counts_its_make_up_days():
    # Wednesday 30 Sep: 1–7 Oct off; Thu 8, Fri 9, Sat 10 (worked), Mon 12, Tue 13.
    assert clock.results_due(D(2026, 9, 30)) == (D(2026, 10, 13), None)
    # Friday 18 Sep: Sunday 20 is worked (1), Mon 21 … Thu 24 are 2–5.
    assert clock.results_due(D(2026, 9, 18)) == (D(2026, 9, 24), None)
    # Tuesday 22 Sep: 23, 24, Mid-Autumn 25–27 off, 28, 29, 30.
    assert clock.results_due(D(2026, 9, 22)) == (D(2026, 9, 30), None)


def test_results_due_working_days_are_configurable(settings):
    settings.PORTAL_RESULTS_WORKING_DAYS = 3
    assert clock.results_due(D(2026, 2, 13)) == (D(2026, 2, 25), None)


def test_results_due_into_a_year_the_calendar_does_not_know_is_not_guessed():
    # Monday 28 Dec 2026: 29, 30, 31 are 1–3; 1 Jan 2027 is in a year the calendar lacks.
    assert clock.results_due(D(2026, 12, 28)) == (None, 2027)
    assert clock.results_due(D(2026, 12, 24)) == (D(2026, 12, 31), None)


def test_results_are_late_only_after_the_due_day_and_never_on_a_guess():
    plan = EvaluationPlan(results_due_on=D(2026, 2, 27))
    assert not clock.is_late(plan, D(2026, 2, 27))
    assert clock.is_late(plan, D(2026, 2, 28))
    assert not clock.is_late(EvaluationPlan(results_due_on=None, due_unknown_year=2027), D(2030, 1, 1))


# --- On the plan ----------------------------------------------------------------------------


@pytest.fixture
def filed():
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC), tick=False):
        cast = Cast(factories.school())
        cast.filed()
        inst = Institution.objects.get(school=cast.school)
        yield cast, inst


def make_plan(cast, inst, last_day: dt.date, *, days: int = 1) -> EvaluationPlan:
    first = last_day - dt.timedelta(days=days - 1)
    return services.plan_create(
        institution=inst,
        actor=cast.staff,
        occupation=inst.occupations.get(),
        level=Level.LEVEL_4,
        site=inst.sites.get(),
        method=AssessmentMethod.RESULT,
        starts_at=timezone.make_aware(dt.datetime.combine(first, dt.time(9))),
        ends_at=timezone.make_aware(dt.datetime.combine(last_day, dt.time(17))),
    )


def test_a_new_plan_carries_its_results_due_date_and_the_batch_page_shows_it(filed):
    cast, inst = filed
    plan = make_plan(cast, inst, D(2026, 12, 10))
    plan.refresh_from_db()
    # Thursday 10 Dec: Fri 11, Mon 14 … Thu 17.
    assert (plan.results_due_on, plan.due_unknown_year) == (D(2026, 12, 17), None)
    assert plan.history.first().results_due_on == D(2026, 12, 17)  # stored with the plan's first row
    page = client_for(cast.staff).get(reverse("assessments:plan_detail", args=[plan.pk])).content.decode()
    assert "评价结果报送截止日" in page and 'data-testid="results-due">2026-12-17<' in page


def test_a_plan_ending_late_at_night_counts_from_its_last_day_in_shanghai(filed):
    cast, inst = filed
    plan = make_plan(cast, inst, D(2026, 12, 10))
    plan.ends_at = timezone.make_aware(dt.datetime(2026, 12, 10, 23, 30))  # 15:30 UTC, still the 10th
    clock.results_due_refresh(plan)
    plan.refresh_from_db()
    assert plan.results_due_on == D(2026, 12, 17)


def test_a_due_date_in_an_unknown_year_reads_cannot_be_computed_and_administrators_are_told_once(filed):
    cast, inst = filed
    admin = factories.user(Role.SYSTEM_ADMIN)
    first = make_plan(cast, inst, D(2026, 12, 28))
    second = make_plan(cast, inst, D(2026, 12, 29))
    for plan in (first, second):
        plan.refresh_from_db()
        assert (plan.results_due_on, plan.due_unknown_year) == (None, 2027)
    client = client_for(cast.staff)
    for _ in range(2):  # page views never notify
        page = client.get(reverse("assessments:plan_detail", args=[first.pk]))
        assert page.status_code == 200
        assert "无法计算：2027年工作日历尚未发布" in page.content.decode()
    told = Notification.objects.filter(recipient=admin)
    assert told.count() == 1
    assert "2027" in str(told.get().title) and told.get().link == reverse("calendar") + "?year=2027"
    assert not Notification.objects.filter(recipient=cast.staff, title__contains="2027").exists()
    # Refreshing again (the daily job does) tells nobody twice.
    clock.results_due_refresh(first)
    assert told.count() == 1


def test_publishing_the_unknown_year_turns_it_into_a_real_due_date(filed, django_capture_on_commit_callbacks):
    cast, inst = filed
    admin = factories.user(Role.SYSTEM_ADMIN)
    plan = make_plan(cast, inst, D(2026, 12, 28))
    with django_capture_on_commit_callbacks(execute=True):
        calendar_year_publish(
            actor=admin,
            year=2027,
            source="国务院办公厅通知（测试）",
            holidays=[(D(2027, 1, 1), "元旦")],
            makeup_workdays=[],
        )
    plan.refresh_from_db()
    # 29, 30, 31 Dec; Fri 1 Jan is a holiday; Mon 4 and Tue 5 Jan.
    assert (plan.results_due_on, plan.due_unknown_year) == (D(2027, 1, 5), None)
    page = client_for(cast.staff).get(reverse("assessments:plan_detail", args=[plan.pk])).content.decode()
    assert "2027-01-05" in page and "无法计算" not in page


def test_an_administrators_correction_of_a_holiday_moves_the_due_date(filed, django_capture_on_commit_callbacks):
    cast, inst = filed
    plan = make_plan(cast, inst, D(2026, 12, 10))
    with django_capture_on_commit_callbacks(execute=True):
        CalendarDay.objects.create(date=D(2026, 12, 14), is_workday=False, name="测试假日")
    plan.refresh_from_db()
    assert plan.results_due_on == D(2026, 12, 18)


def test_the_plan_form_shows_the_due_date_from_the_api_when_the_end_is_entered(filed):
    cast, _inst = filed
    page = client_for(cast.staff).get(reverse("assessments:plan_create")).content.decode()
    assert "assessments/results_due.js" in page
    assert f'data-url="{reverse("api_due_date")}"' in page and 'data-end-field="ends_at"' in page
    assert 'data-unknown="无法计算：{year}年工作日历尚未发布"' in page


def test_the_daily_job_computes_due_dates_for_a_year_published_by_any_route(filed):
    """A year entered without signals (bulk, another process): the deadline job catches up."""
    from assessments.tasks import run_results_deadlines

    cast, inst = filed
    plan = make_plan(cast, inst, D(2026, 12, 28))
    CalendarYear.objects.bulk_create([CalendarYear(year=2027, source="测试")])
    CalendarDay.objects.bulk_create([CalendarDay(date=D(2027, 1, 1), is_workday=False, name="元旦")])
    assert run_results_deadlines()["recomputed"] == 1
    plan.refresh_from_db()
    assert (plan.results_due_on, plan.due_unknown_year) == (D(2027, 1, 5), None)
    assert run_results_deadlines()["recomputed"] == 0
