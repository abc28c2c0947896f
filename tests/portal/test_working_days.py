import datetime as dt

import pytest

from portal.models import CalendarDay, CalendarYear
from portal.services import calendar_seed_from_package, calendar_year_publish
from portal.working_days import CalendarUnknownError, WorkCalendar, add_working_days, is_workday
from tests import factories

pytestmark = pytest.mark.django_db


def test_calendar_is_seeded_from_chinesecalendar_by_migration():
    assert CalendarYear.objects.filter(year=2026, source="chinesecalendar").exists()
    # 2026 make-up workdays per the State Council's notice (STACK-NOTES).
    makeup = set(CalendarDay.objects.filter(date__year=2026, is_workday=True).values_list("date", flat=True))
    assert {dt.date(2026, m, d) for m, d in [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)]} <= makeup


def test_national_day_is_not_a_working_day_and_a_makeup_saturday_is():
    assert not is_workday(dt.date(2026, 10, 1))
    assert is_workday(dt.date(2026, 10, 10))  # Saturday, 调休上班
    assert not is_workday(dt.date(2026, 11, 28))  # ordinary Saturday
    assert is_workday(dt.date(2026, 11, 27))  # ordinary Friday


def test_five_working_days_skip_the_national_day_holiday():
    # Batch ends Tuesday 2026-09-29. Working days after it: 09-30, (10-01..10-07 holidays),
    # 10-08, 10-09, 10-10 (Saturday, make-up workday), then Monday 10-12.
    assert add_working_days(dt.date(2026, 9, 29), 5) == dt.date(2026, 10, 12)
    assert WorkCalendar().working_days_between(dt.date(2026, 9, 29), dt.date(2026, 10, 10)) == 4


def test_five_working_days_skip_a_weekend():
    assert add_working_days(dt.date(2026, 11, 20), 5) == dt.date(2026, 11, 27)


def test_a_year_the_calendar_does_not_know_is_refused_not_guessed():
    with pytest.raises(CalendarUnknownError) as exc:
        add_working_days(dt.date(2026, 12, 28), 5)
    assert "2027" in str(exc.value)


def test_an_administrator_can_publish_a_year_the_package_does_not_know():
    admin = factories.user("system_admin")
    calendar_year_publish(
        actor=admin,
        year=2027,
        source="国务院办公厅通知（测试）",
        holidays=[(dt.date(2027, 1, 1), "元旦")],
        makeup_workdays=[(dt.date(2027, 1, 2), "调休上班")],
    )
    cal = WorkCalendar()
    assert not cal.is_workday(dt.date(2027, 1, 1))
    assert cal.is_workday(dt.date(2027, 1, 2))
    assert add_working_days(dt.date(2026, 12, 28), 5) == dt.date(2027, 1, 4)
    assert CalendarDay.history.filter(date=dt.date(2027, 1, 1)).first().history_user == admin


def test_only_a_system_administrator_may_publish_a_calendar_year():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        calendar_year_publish(
            actor=factories.user("school_staff"), year=2027, source="x", holidays=[], makeup_workdays=[]
        )
    assert not CalendarYear.objects.filter(year=2027).exists()


def test_reseeding_from_the_package_keeps_days_an_administrator_edited():
    day = CalendarDay.objects.get(date=dt.date(2026, 10, 10))
    day.name = "调休上班（管理员核对）"
    day.save()
    assert calendar_seed_from_package(years=[2026]) == 0
    assert CalendarDay.objects.get(date=dt.date(2026, 10, 10)).name == "调休上班（管理员核对）"
