"""The public due-date API for schools' own systems: GET /api/v1/calendar/due-date."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
URL = "/api/v1/calendar/due-date"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    """Rate-limit counters live in the cache: each test starts and ends with none."""
    cache.clear()
    yield
    cache.clear()


def get(**params):
    return Client().get(URL, params)


def test_the_api_lives_at_its_documented_address():
    assert reverse("api_due_date") == URL


def test_api_answers_the_due_date_across_spring_festival_without_a_login():
    response = get(end="2026-02-13", days="5")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"end": "2026-02-13", "working_days": 5, "due": "2026-02-27"}


def test_api_days_default_to_the_results_deadline_and_count_make_up_workdays():
    assert get(end="2026-09-30").json() == {"end": "2026-09-30", "working_days": 5, "due": "2026-10-13"}
    assert get(end="2026-02-13", days="1").json()["due"] == "2026-02-14"  # the worked Saturday


def test_api_answers_422_with_the_unknown_year_instead_of_guessing():
    response = get(end="2026-12-28", days="5")
    assert response.status_code == 422
    body = response.json()
    assert body["unknown_years"] == [2027]
    assert "2027年工作日历尚未发布" in body["error"] and "calendar for 2027 is not published" in body["error"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "end"),
        ({"end": ""}, "end"),
        ({"end": "2026/02/13"}, "end"),
        ({"end": "20260213"}, "end"),
        ({"end": "2026-02-30"}, "end"),
        ({"end": "2026-02-13", "days": "0"}, "days"),
        ({"end": "2026-02-13", "days": "61"}, "days"),
        ({"end": "2026-02-13", "days": "-1"}, "days"),
        ({"end": "2026-02-13", "days": "abc"}, "days"),
        ({"end": "2026-02-13", "days": "2.5"}, "days"),
    ],
)
def test_api_refuses_bad_input_with_400_naming_the_parameter(params, field):
    response = get(**params)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == field and field in body["error"]


def test_api_days_are_bounded_from_1_to_60():
    assert get(end="2026-02-13", days="60").status_code == 200
    assert "1至60" in get(end="2026-02-13", days="61").json()["error"]


def test_api_is_rate_limited_per_client_with_a_429_in_chinese_and_english(settings):
    settings.PORTAL_API_RATE = "3/m"
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, 5, tzinfo=dt.UTC), tick=False):
        for _ in range(3):
            assert get(end="2026-02-13").status_code == 200
        refused = get(end="2026-02-13")
        assert refused.status_code == 429 and refused["Retry-After"] == "60"
        assert "请求过于频繁" in refused.json()["error"] and "Too many requests" in refused.json()["error"]
        # Another client address is counted on its own.
        other = Client(REMOTE_ADDR="10.0.0.9").get(URL, {"end": "2026-02-13"})
        assert other.status_code == 200
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 2, 5, tzinfo=dt.UTC), tick=False):
        assert get(end="2026-02-13").status_code == 200  # a new minute


def test_api_serves_get_only():
    assert Client().post(URL, {"end": "2026-02-13"}).status_code == 405
