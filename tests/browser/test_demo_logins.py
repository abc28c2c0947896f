"""Every demo login works through the real login form, and wrong passwords lock an account."""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from portal.models import Role
from tests import factories

# serialized_rollback makes pytest-django serialize the migrated database, which conftest.py
# reloads around these tests (see its docstring for why Django's own reload does not apply).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium"))

BAD_LOGIN = "用户名或密码不正确"
LOCKED_OUT = "账号已暂时锁定"


def demo_logins() -> list[tuple[str, str, str]]:
    """Seeds the demo data and returns (username, roles, organisation) per demo login."""
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("list_demo_users", stdout=out)
    rows = [tuple(line.split("\t")) for line in out.getvalue().splitlines() if line.strip()]
    assert rows, "list_demo_users printed no logins"
    assert all(len(row) == 3 for row in rows), rows
    return rows


def path_of(page: Page) -> str:
    return urlparse(page.url).path


def submit_login(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def test_every_demo_user_logs_in_and_out(browser_context_factory, artifacts_dir):
    logins = demo_logins()
    roles_seen = {role for _username, roles, _org in logins for role in roles.split(",")}
    assert Role.SCHOOL_STAFF.value in roles_seen
    screenshot_taken = False

    for username, roles, organisation in logins:
        page = browser_context_factory().new_page()
        submit_login(page, username, settings.DEMO_PASSWORD)

        assert path_of(page) == "/", f"{username}: landed on {page.url}"
        expect(page.locator("h1")).to_contain_text("工作台")
        expect(page.locator("body")).to_contain_text(organisation)

        if not screenshot_taken and Role.SCHOOL_STAFF.value in roles.split(","):
            page.screenshot(path=str(artifacts_dir / "home-school.png"), full_page=True)
            screenshot_taken = True

        logout = page.locator("header nav form button", has_text="退出")
        expect(logout).to_be_visible()
        with page.expect_navigation():
            logout.click()
        assert path_of(page) == "/accounts/login/", f"{username}: after logout on {page.url}"
        page.goto("/")
        assert path_of(page) == "/accounts/login/", f"{username}: still logged in after logout"
        page.context.close()


def test_wrong_password_shows_error_then_locks_the_account(page: Page):
    user = factories.user(Role.CENTRE_REVIEWER, username="lockout-probe", password="right-pass-2026")

    for attempt in range(1, settings.AXES_FAILURE_LIMIT):
        submit_login(page, user.username, f"wrong-pass-{attempt}")
        assert path_of(page) == "/accounts/login/"
        expect(page.locator("main .alert-danger")).to_contain_text(BAD_LOGIN)
        expect(page.locator("#id_username")).to_have_value(user.username)

    # The failure that reaches AXES_FAILURE_LIMIT is answered with the lockout page ...
    submit_login(page, user.username, "wrong-pass-last")
    expect(page.locator("h1")).to_contain_text(LOCKED_OUT)
    # ... and while locked, even the right password is refused.
    submit_login(page, user.username, "right-pass-2026")
    expect(page.locator("h1")).to_contain_text(LOCKED_OUT)
    expect(page.locator("h1", has_text="工作台")).to_have_count(0)


def test_lockout_is_per_username(browser_context_factory):
    locked = factories.user(Role.CENTRE_REVIEWER, username="locked-user", password="right-pass-2026")
    other = factories.user(Role.CENTRE_REVIEWER, username="other-user", password="right-pass-2026")
    page = browser_context_factory().new_page()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        submit_login(page, locked.username, f"wrong-pass-{attempt}")
    expect(page.locator("h1")).to_contain_text(LOCKED_OUT)

    page = browser_context_factory().new_page()
    submit_login(page, other.username, "right-pass-2026")
    assert path_of(page) == "/"
    expect(page.locator("h1")).to_contain_text("工作台")
    expect(page.locator("body")).to_contain_text(str(other.organisation))


def test_login_page_renders_in_chinese(page: Page):
    page.goto("/")
    assert path_of(page) == "/accounts/login/"
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^zh"))
    expect(page.locator("main h1")).to_have_text("登录")
