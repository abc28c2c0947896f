"""The results due date appears on the new-plan form as soon as the end is entered (issue 8 item 8):
the form's script asks /api/v1/calendar/due-date and shows the date, or why it cannot be computed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from portal.models import Role
from tests import factories
from tests.institutions.builders import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium"))

PASSWORD = "due-pass-2026"


def test_the_plan_form_shows_the_results_due_date_when_the_end_is_entered(page):
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC), tick=True):
        cast = Cast(factories.school())
        cast.filed()
        cast.staff.set_password(PASSWORD)
        cast.staff.save(update_fields=["password"])
        assert cast.staff.has_role(Role.SCHOOL_STAFF)
        page.goto("/accounts/login/")
        page.fill("#id_username", cast.staff.username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        page.goto("/assessments/new/")
        due = page.locator("[data-results-due]")
        expect(due).to_be_hidden()
        page.fill("#id_ends_at", "2026-12-10T17:00")
        expect(due.locator("[data-due]")).to_have_text("2026-12-17")
        expect(due).to_contain_text("第5个工作日")
        # Into a year the calendar does not know: said so, no date guessed.
        page.fill("#id_ends_at", "2026-12-28T17:00")
        expect(due.locator("[data-due]")).to_have_text("无法计算：2027年工作日历尚未发布")
