import datetime as dt

import pytest
import time_machine

from portal.models import Notification, Role
from portal.tasks import check_calendar_coverage
from tests import factories

pytestmark = pytest.mark.django_db


def test_administrators_are_reminded_once_in_october_to_publish_next_years_calendar():
    admin = factories.user(Role.SYSTEM_ADMIN)
    factories.user(Role.SCHOOL_STAFF)
    with time_machine.travel(dt.datetime(2026, 9, 30, 9, 0, tzinfo=dt.UTC), tick=False):
        assert check_calendar_coverage() == 0
    with time_machine.travel(dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        assert check_calendar_coverage() == 1
        assert check_calendar_coverage() == 0
    assert list(Notification.objects.values_list("recipient", "title")) == [(admin.pk, "请维护2027年工作日历")]


def test_the_schedule_is_registered_with_beat(settings):
    assert settings.CELERY_BEAT_SCHEDULE["calendar-coverage"]["task"] == "portal.tasks.check_calendar_coverage"
    from portal.celery import app

    assert "portal.tasks.check_calendar_coverage" in app.tasks
