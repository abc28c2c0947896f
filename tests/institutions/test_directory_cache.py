"""The public directory is cached for anonymous visitors, per URL and language, and a change to an
entry is visible at once; a cached page never carries a CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from institutions import services
from institutions.models import InstitutionStatus
from portal.models import Role
from schools.models import Level
from tests import factories
from tests.access_expectations.institutions_directory import institution_for
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

WELDER = "6-18-02-04"


@pytest.fixture
def institution(school):
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    return institution_for(school, created_by=staff, occupations=[(WELDER, Level.LEVEL_5, Level.LEVEL_3)])


def test_a_second_anonymous_visitor_is_served_the_cached_page(institution):
    first = Client().get(reverse("directory"))
    second = Client().get(reverse("directory"))
    assert first["X-Directory-Cache"] == "miss" and second["X-Directory-Cache"] == "hit"
    assert second.content == first.content and institution.name in second.content.decode()
    assert "public" in second["Cache-Control"]
    detail = reverse("directory_detail", args=[institution.pk])
    assert Client().get(detail)["X-Directory-Cache"] == "miss"
    assert Client().get(detail)["X-Directory-Cache"] == "hit"


def test_a_suspension_is_shown_at_once(institution, people):
    assert "暂停" not in Client().get(reverse("directory")).content.decode()
    assert Client().get(reverse("directory"))["X-Directory-Cache"] == "hit"
    services.institution_suspend(
        institution=institution, actor=people[Role.CENTRE_REVIEWER], reason="督导检查发现问题，暂停认定"
    )
    institution.refresh_from_db()
    assert institution.status == InstitutionStatus.SUSPENDED
    page = Client().get(reverse("directory"))
    assert page["X-Directory-Cache"] == "miss"
    assert "督导检查发现问题，暂停认定" in page.content.decode()


def test_a_renamed_school_is_shown_at_once(institution):
    Client().get(reverse("directory"))
    org = institution.school.organisation
    org.name = "上海市改名后的职业学院"
    org.save()
    assert "上海市改名后的职业学院" in Client().get(reverse("directory")).content.decode()


def test_the_anonymous_directory_carries_no_csrf_token(institution):
    for url in (reverse("directory"), reverse("directory_detail", args=[institution.pk])):
        for _ in range(2):  # rendered, then from the cache
            response = Client().get(url)
            html = response.content.decode()
            assert "csrfmiddlewaretoken" not in html
            assert "csrftoken" not in response.cookies
            assert f'href="{reverse("set_language")}?language=en&amp;next=' in html


def test_each_language_is_cached_separately(institution):
    chinese, english = Client(), Client()
    english.cookies["django_language"] = "en"
    zh = chinese.get(reverse("directory"))
    en = english.get(reverse("directory"))
    assert en["X-Directory-Cache"] == "miss"
    assert 'lang="en"' in en.content.decode() and 'lang="zh-CN"' in zh.content.decode()
    assert english.get(reverse("directory")).content == en.content
    assert chinese.get(reverse("directory")).content == zh.content


def test_search_pages_are_cached_per_query_and_odd_parameters_are_not(institution):
    url = reverse("directory")
    assert Client().get(url, {"occupation": "焊工"})["X-Directory-Cache"] == "miss"
    assert Client().get(url, {"occupation": "焊工"})["X-Directory-Cache"] == "hit"
    assert Client().get(url, {"occupation": "车工"})["X-Directory-Cache"] == "miss"
    assert "X-Directory-Cache" not in Client().get(url, {"utm": "x"})


def test_logged_in_visitors_are_never_served_from_the_cache(institution, people):
    Client().get(reverse("directory"))
    user = people[Role.CENTRE_REVIEWER]
    response = client_for(user).get(reverse("directory"))
    assert "X-Directory-Cache" not in response
    html = response.content.decode()
    assert "csrfmiddlewaretoken" in html  # their language form and logout button
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]


def test_the_language_link_sets_the_cookie_and_returns_to_the_page():
    client = Client()
    response = client.get(reverse("set_language"), {"language": "en", "next": "/directory/?page=2"})
    assert response.status_code == 302 and response["Location"] == "/directory/?page=2"
    assert response.cookies["django_language"].value == "en"
    assert 'lang="en"' in client.get("/directory/").content.decode()


def test_the_language_link_does_not_redirect_elsewhere():
    response = Client().get(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("directory")
    unknown = Client().get(reverse("set_language"), {"language": "xx", "next": "/directory/"})
    assert "django_language" not in unknown.cookies
