"""Directory cards and registry rows are cached per entry and shared by every visitor: a change to
an entry shows at once on every page, a fragment never carries the visitor who rendered it, and
each language and day has its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from institutions import services
from institutions.directory_cache import fragment_key
from institutions.models import InstitutionOccupation
from portal.models import Role
from schools.models import Level
from tests.access_expectations.institutions_directory import institution_for
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

WELDER = "6-18-02-04"
CARD, ROW = "institutions/_directory_card.html", "institutions/_registry_row.html"
PAGES = ("directory", "registry:institution_list")


@pytest.fixture
def institution(school, people):
    return institution_for(
        school, created_by=people[Role.SCHOOL_STAFF], occupations=[(WELDER, Level.LEVEL_5, Level.LEVEL_3)]
    )


def _entries(client, url: str) -> str:
    """The page below its search form (whose choices name every status and level)."""
    return client.get(url).content.decode().split('role="search"')[1].split("</form>", 1)[1]


def _occupation_reads(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return sum('FROM "institutions_institutionoccupation"' in q["sql"] for q in queries)


def _fragment(template: str, pk: int, language: str = "zh-hans") -> str:
    with translation.override(language):
        return cache.get(fragment_key(template, pk))[1]


def test_entries_rendered_for_one_visitor_are_served_to_the_next(institution, people):
    reviewer, officer = client_for(people[Role.CENTRE_REVIEWER]), client_for(people[Role.COMMISSION_OFFICER])
    for name in PAGES:
        url = reverse(name)
        assert _occupation_reads(reviewer, url) == 1
        assert _occupation_reads(officer, url) == 0  # another user, another role: the same entries
        assert _occupation_reads(Client(), reverse("directory") + "?page=1") == 0  # anonymous too
    html = client_for(people[Role.COMMISSION_OFFICER]).get(reverse("directory")).content.decode()
    assert _fragment(CARD, institution.pk) in html and "焊工" in html


def test_a_fragment_never_carries_the_visitor(institution, people):
    user = people[Role.CENTRE_REVIEWER]
    client = client_for(user)
    pages = {name: client.get(reverse(name)).content.decode() for name in PAGES}
    assert all("csrfmiddlewaretoken" in page for page in pages.values())  # the page has the visitor's token
    for template in (CARD, ROW):
        fragment = _fragment(template, institution.pk)
        assert institution.name in fragment
        for private in ("csrfmiddlewaretoken", "csrftoken", user.username, user.full_name, reverse("logout")):
            assert private not in fragment, (template, private)


def test_a_suspension_shows_at_once_on_every_page(institution, people):
    reviewer = client_for(people[Role.CENTRE_REVIEWER])
    for name in PAGES:
        assert "督导检查" not in reviewer.get(reverse(name)).content.decode()
    services.institution_suspend(institution=institution, actor=people[Role.CENTRE_REVIEWER], reason="督导检查发现问题")
    for client in (reviewer, client_for(people[Role.COMMISSION_OFFICER])):
        for name in PAGES:
            html = client.get(reverse(name)).content.decode()
            assert "督导检查发现问题" in html and "暂停" in html, name


def test_a_changed_occupation_row_shows_at_once(institution, people):
    reviewer = client_for(people[Role.CENTRE_REVIEWER])
    for name in PAGES:
        assert "四级" not in _entries(reviewer, reverse(name))
    row = InstitutionOccupation.objects.get(institution=institution)
    row.lowest_level = Level.LEVEL_4
    row.save()
    for name in PAGES:
        assert "四级" in _entries(reviewer, reverse(name)), name


def test_each_language_has_its_own_entries(institution, people):
    chinese, english = client_for(people[Role.CENTRE_REVIEWER]), client_for(people[Role.COMMISSION_OFFICER])
    english.cookies["django_language"] = "en"
    assert "有效期至" in chinese.get(reverse("directory")).content.decode()
    html = english.get(reverse("directory")).content.decode()
    assert "Valid until" in html and "有效期至" not in _entries(english, reverse("directory"))
    assert "Valid until" in _fragment(CARD, institution.pk, "en")
    assert "有效期至" in _fragment(CARD, institution.pk)


def test_an_entry_past_its_date_is_shown_expired_the_next_day(school, people, monkeypatch):
    today = timezone.localdate()
    institution = institution_for(school, created_by=people[Role.SCHOOL_STAFF], valid_until=today)
    reviewer = client_for(people[Role.CENTRE_REVIEWER])
    for name in PAGES:
        assert "已过期" not in _entries(reviewer, reverse(name))
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: today + dt.timedelta(days=1))
    for name in PAGES:
        html = _entries(reviewer, reverse(name))
        assert "已过期" in html and institution.name in html, name


def test_entries_are_rendered_when_the_cache_is_down(institution, people, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set_many", down)
    reviewer = client_for(people[Role.CENTRE_REVIEWER])
    for name in PAGES:
        response = reviewer.get(reverse(name))
        assert response.status_code == 200 and institution.name in response.content.decode()
