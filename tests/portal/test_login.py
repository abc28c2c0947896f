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
    assert client.get(reverse("home")).status_code == 200  # logged in first, or the rest proves nothing
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


# --- Behind the documented reverse proxy (DJANGO_BEHIND_PROXY=1, AXES_PROXY_COUNT=1) -------------
# nginx connects from 127.0.0.1 and appends the address it saw to X-Forwarded-For
# ($proxy_add_x_forwarded_for): whatever the client sent itself stays on the left.

PROXY = "127.0.0.1"
STRANGER, REAL_USER = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def behind_one_proxy(settings):
    settings.PORTAL_PROXY_COUNT = 1


def login_via_proxy(client: Client, username: str, password: str, client_address: str, sent_by_client: str = ""):
    forwarded = f"{sent_by_client}, {client_address}" if sent_by_client else client_address
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_behind_the_proxy_a_strangers_failures_do_not_lock_out_the_real_user(behind_one_proxy, settings):
    admin = factories.user(Role.SYSTEM_ADMIN, username="centre-admin", password="right-pass-2026")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_via_proxy(Client(), admin.username, "wrong", STRANGER)
    assert login_via_proxy(Client(), admin.username, "right-pass-2026", STRANGER).status_code == 429
    response = login_via_proxy(Client(), admin.username, "right-pass-2026", REAL_USER)
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_behind_the_proxy_the_lockout_counts_the_client_address_not_the_proxys(behind_one_proxy):
    from axes.models import AccessAttempt

    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    login_via_proxy(Client(), user.username, "wrong", STRANGER)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [STRANGER]


def test_behind_the_proxy_a_forged_forwarded_for_neither_dodges_the_lockout_nor_frames_another_address(
    behind_one_proxy, settings
):
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    for n in range(settings.AXES_FAILURE_LIMIT):
        # A different forged address each time, and once the real user's own address.
        forged = REAL_USER if n == 0 else f"192.0.2.{n}"
        login_via_proxy(Client(), user.username, "wrong", STRANGER, sent_by_client=forged)
    assert login_via_proxy(Client(), user.username, "right-pass-2026", STRANGER).status_code == 429
    assert login_via_proxy(Client(), user.username, "right-pass-2026", REAL_USER).status_code == 302


def test_without_a_configured_proxy_a_forwarded_for_header_is_ignored(settings):
    settings.PORTAL_PROXY_COUNT = 0
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    for n in range(settings.AXES_FAILURE_LIMIT):
        client = Client()
        client.post(
            reverse("login"),
            {"username": user.username, "password": "wrong"},
            REMOTE_ADDR=STRANGER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    response = Client().post(
        reverse("login"), {"username": user.username, "password": "right-pass-2026"}, REMOTE_ADDR=STRANGER
    )
    assert response.status_code == 429


def test_behind_two_proxies_the_client_is_the_second_address_from_the_right(settings):
    from axes.models import AccessAttempt

    settings.PORTAL_PROXY_COUNT = 2
    user = factories.user(Role.CENTRE_REVIEWER, password="right-pass-2026")
    Client().post(
        reverse("login"),
        {"username": user.username, "password": "wrong"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"192.0.2.1, {STRANGER}, 10.0.0.5",
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [STRANGER]
