"""Directory validity: reminders at 90, 30 and 7 days, automatic expiry; every run idempotent."""

import datetime as dt

import pytest
import time_machine

from institutions import selectors
from institutions.models import Institution, InstitutionStatus
from institutions.tasks import run_directory_expiry
from portal.i18n import shown
from portal.models import Notification
from tests import factories
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def filed():
    with time_machine.travel(START, tick=False):
        cast = Cast(factories.school())
        cast.filed()
    Notification.objects.all().delete()
    return cast, Institution.objects.get(school=cast.school)


def run_on(day: dt.date) -> dict:
    with time_machine.travel(dt.datetime.combine(day, dt.time(0, 15), tzinfo=dt.UTC), tick=False):
        return run_directory_expiry()


def reminders_for(cast) -> list[str]:
    titles = Notification.objects.filter(recipient=cast.staff).order_by("id").values_list("title", flat=True)
    return [shown(t) for t in titles]


def test_reminders_go_out_once_at_each_threshold_and_the_entry_expires_after_its_end_date(filed):
    cast, inst = filed
    end = inst.valid_until
    assert end == dt.date(2029, 11, 24)
    assert run_on(end - dt.timedelta(days=91))["reminders"] == 0
    for days in (90, 30, 7):
        day = end - dt.timedelta(days=days)
        first, second = run_on(day), run_on(day)
        assert first["reminders"] == 1, days
        assert second == {"expired_institutions": 0, "expired_occupations": 0, "reminders": 0, "limited_occupations": 0}
    titles = reminders_for(cast)
    assert len(titles) == 3 and "剩余90天" in titles[0] and "剩余30天" in titles[1] and "剩余7天" in titles[2]
    # Still valid on its last day …
    assert run_on(end) == {
        "expired_institutions": 0,
        "expired_occupations": 0,
        "reminders": 0,
        "limited_occupations": 0,
    }
    assert selectors.plannable_occupations(institution=inst, on=end).exists()
    # … expired the day after, once.
    assert run_on(end + dt.timedelta(days=1)) == {
        "expired_institutions": 1,
        "expired_occupations": 1,
        "reminders": 0,
        "limited_occupations": 0,
    }
    assert run_on(end + dt.timedelta(days=1)) == {
        "expired_institutions": 0,
        "expired_occupations": 0,
        "reminders": 0,
        "limited_occupations": 0,
    }
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.EXPIRED
    assert shown(inst.history.latest().history_change_reason) == "有效期届满，自动过期"
    assert not selectors.plannable_occupations(institution=inst, on=end + dt.timedelta(days=1)).exists()
    assert len(reminders_for(cast)) == 3


def test_a_missed_day_still_sends_the_nearest_reminder_only(filed):
    cast, inst = filed
    run_on(inst.valid_until - dt.timedelta(days=20))  # the job did not run for months
    assert len(reminders_for(cast)) == 1 and "剩余20天" in reminders_for(cast)[0]


def test_a_renewed_institution_gets_fresh_reminders_for_its_new_end_date(filed):
    from institutions import services

    cast, inst = filed
    run_on(inst.valid_until - dt.timedelta(days=30))
    with time_machine.travel(dt.datetime.combine(inst.valid_until - dt.timedelta(days=20), dt.time(9)), tick=False):
        inst = services.institution_renew(institution=inst, actor=cast.centre, reason="复核通过，延续备案")
    run_on(inst.valid_until - dt.timedelta(days=90))
    titles = reminders_for(cast)
    assert titles[-1].startswith(f"评价机构备案将于{inst.valid_until.isoformat()}到期（剩余90天）")


def test_suspended_institutions_get_no_reminders_and_are_not_expired_over(filed):
    from institutions import services

    cast, inst = filed
    services.institution_suspend(institution=inst, actor=cast.centre, reason="整改")
    Notification.objects.all().delete()
    assert run_on(inst.valid_until - dt.timedelta(days=7))["reminders"] == 0
    run_on(inst.valid_until + dt.timedelta(days=1))
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.SUSPENDED
