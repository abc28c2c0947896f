import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from portal.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.0.0.9")


def test_a_user_logs_in_and_lands_on_their_home_page():
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    client = Client()
    response = login(client, user.username, "right-pass-2026")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert "工作台" in client.get(reverse("home")).content.decode()


def test_a_wrong_password_is_refused_with_a_chinese_message():
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    response = login(Client(), user.username, "wrong")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_five_failed_logins_lock_the_account_even_against_the_right_password(settings):
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, user.username, "wrong")
    response = login(client, user.username, "right-pass-2026")
    assert response.status_code == 429
    assert "账号已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_ends_after_the_cool_off_period(settings):
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            login(Client(), user.username, "wrong")
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1), tick=False):
        assert login(Client(), user.username, "right-pass-2026").status_code == 302


def test_an_idle_session_expires_and_returns_to_the_login_page(settings):
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    client = Client()
    start = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        login(client, user.username, "right-pass-2026")
        assert client.get(reverse("home")).status_code == 200
    later = start + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(later, tick=False):
        response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_logout_ends_the_session():
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    client = Client()
    login(client, user.username, "right-pass-2026")
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_changing_the_password_keeps_the_user_logged_in():
    user = factories.user(Role.SCHOOL_STAFF, password="right-pass-2026")
    client = Client()
    login(client, user.username, "right-pass-2026")
    response = client.post(
        reverse("password_change"),
        {"old_password": "right-pass-2026", "new_password1": "Xq7-longer-pass", "new_password2": "Xq7-longer-pass"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Xq7-longer-pass")
    assert client.get(reverse("home")).status_code == 200
