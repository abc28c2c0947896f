"""The school list and the registry are paginated: a second page is reachable, the search is kept
from page to page, and a page costs the same queries whatever the number of rows."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions.directory_cache import forget_pages
from institutions.directory_views import PAGE_SIZE
from portal.models import District, Role
from schools.views import SCHOOL_PAGE_SIZE
from tests import factories
from tests.access_expectations.institutions_directory import institution_for
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PUDONG, HUANGPU = "310115", "310101"


def _next_link(html: str) -> str:
    links = re.findall(r'<a class="page-link" href="([^"]+)">下一页</a>', html)
    assert len(links) == 1, "no next-page link"
    return links[0].replace("&amp;", "&")


def _client(user):
    client = client_for(user)
    client.get(reverse("home"))  # the first request after login stamps the session
    return client


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_school_list_has_a_second_page_that_keeps_the_search(people):
    wanted = [
        factories.school(name=f"浦东甲职业学院{n:02d}", district_code=PUDONG) for n in range(SCHOOL_PAGE_SIZE + 5)
    ]
    factories.school(name="黄浦甲职业学院", district_code=HUANGPU)  # matches the name, not the district
    factories.school(name="浦东乙职业学院", district_code=PUDONG)  # matches the district, not the name
    client = client_for(people[Role.CENTRE_REVIEWER])
    pudong = District.objects.get(code=PUDONG)
    first = client.get(reverse("schools:school_list"), {"q": "甲", "district": pudong.pk}).content.decode()
    assert f"共 {len(wanted)} 所学校" in first
    assert "浦东甲职业学院00" in first and "浦东甲职业学院34" not in first
    link = _next_link(first)
    assert "q=%E7%94%B2" in link and f"district={pudong.pk}" in link and "page=2" in link
    second = client.get(reverse("schools:school_list") + link).content.decode()
    assert "第 2 / 2 页" in second
    shown = re.findall(r"浦东甲职业学院\d\d", second)
    assert len(shown) == 5 and "浦东甲职业学院34" in shown
    assert "黄浦甲职业学院" not in first + second and "浦东乙职业学院" not in first + second


def test_an_unknown_district_or_page_is_not_an_error(people):
    factories.school()
    client = client_for(people[Role.CENTRE_REVIEWER])
    for query in ({"district": "x"}, {"page": "999"}, {"page": "x"}, {"q": "a" * 200}):
        assert client.get(reverse("schools:school_list"), query).status_code == 200


def test_a_school_list_page_costs_the_same_queries_for_many_more_schools(people):
    client = _client(people[Role.CENTRE_REVIEWER])
    url = reverse("schools:school_list")
    factories.school()
    few = _count(client, url)
    for _ in range(2 * SCHOOL_PAGE_SIZE):
        factories.student(factories.major(factories.school()))
    assert _count(client, url) == few
    assert _count(client, url + "?page=2") == few
    assert _count(client, url + "?q=测试&page=3") == few


def _institutions(people, n: int, status: str = "active", district_code: str = PUDONG) -> list:
    return [
        institution_for(
            factories.school(district_code=district_code),
            created_by=people[Role.CENTRE_REVIEWER],
            status=status,
            status_reason="督导检查发现问题" if status != "active" else "",
        )
        for _ in range(n)
    ]


def test_the_registry_has_a_second_page_that_keeps_the_filters(people):
    suspended = _institutions(people, PAGE_SIZE + 3, status="suspended")
    _institutions(people, 2)  # active: filtered out
    client = client_for(people[Role.CENTRE_REVIEWER])
    first = client.get(reverse("registry:institution_list"), {"status": "suspended"}).content.decode()
    link = _next_link(first)
    assert "status=suspended" in link and "page=2" in link
    second = client.get(reverse("registry:institution_list") + link).content.decode()
    assert "第 2 / 2 页" in second
    on_second = [i for i in suspended if f'href="{reverse("registry:institution_detail", args=[i.pk])}"' in second]
    assert len(on_second) == 3
    assert second.count("<tr>") == 3 + 1  # the header row and three entries


def test_a_registry_page_costs_the_same_queries_for_many_more_institutions(people):
    client = _client(people[Role.CENTRE_REVIEWER])
    url = reverse("registry:institution_list")
    _institutions(people, 2)
    forget_pages()
    few = _count(client, url)  # nothing cached: the entries' occupations are loaded and rendered
    cached = _count(client, url)  # every entry from the cache: the occupations are not even read
    assert cached < few  # the cached entries skip their occupations (and sites)
    _institutions(people, 2 * PAGE_SIZE, district_code=HUANGPU)
    forget_pages()
    assert _count(client, url) == few
    assert _count(client, url) == cached
    assert _count(client, url + "?page=2&status=active") == few  # other entries: not cached yet
    assert _count(client, url + "?page=2&status=active") == cached
