"""The page frame (templates/base.html): title, favicon and the language switch (issue 7, item 18)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from portal.models import Role
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def test_a_page_title_and_the_portal_name_are_separated(people):
    html = client_for(people[Role.CENTRE_REVIEWER]).get("/").content.decode()
    assert title(html) == f"工作台 · {settings.PORTAL_NAME}"


def test_in_english_the_title_is_separated_too(people):
    client = client_for(people[Role.CENTRE_REVIEWER])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    with translation.override("en"):
        assert title(html) == f"Dashboard · {settings.PORTAL_NAME}"


def test_every_page_links_the_favicon_which_is_served():
    html = Client().get("/accounts/login/").content.decode()
    assert re.search(r'<link rel="icon" href="/static/favicon[^"]*\.svg" type="image/svg\+xml">', html)


def test_the_language_switch_shows_each_language_in_its_own_name_and_switches_only_by_its_button():
    user = factories.user(Role.SCHOOL_STAFF)
    html = client_for(user).get("/").content.decode()
    select = re.search(r'<select id="language"[^>]*>.*?</select>', html, re.S).group(0)
    assert "onchange" not in select and "data-submit-on-change" not in select
    assert '<option value="en" lang="en">English</option>' in select
    assert 'lang="zh-hans" selected>简体中文</option>' in select
    assert 'data-testid="language-switch"' in html


def test_anonymous_visitors_see_english_as_english():
    html = Client().get("/accounts/login/").content.decode()
    assert 'lang="en" href="/i18n/setlang/?language=en' in html and ">English</a>" in html
