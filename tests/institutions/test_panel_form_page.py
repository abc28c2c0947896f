"""The centre's panel form: each expert's organisation (for specialty), open load and declared conflicts."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions import services
from institutions.models import ApplicationKind
from portal.models import Role
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db


def row(html: str, expert) -> str:
    match = re.search(rf'<tr data-testid="expert-{expert.pk}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row for {expert}"
    return match.group(1)


def load_of(html: str, expert) -> str:
    return re.search(r'data-testid="expert-load">\s*(.*?)\s*</td>', row(html, expert), re.S).group(1)


def panel_page(cast, app) -> str:
    response = client_for(cast.centre).get(reverse("institutions:panel_form", args=[app.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_each_expert_is_shown_with_the_organisation_that_stands_in_for_a_specialty():
    cast = Cast(factories.school())
    app = cast.under_evaluation()
    html = panel_page(cast, app)
    expert = cast.experts[0]
    assert expert.organisation.name in row(html, expert)
    assert "暂以所在单位代替" in html  # the page says what stands in for the specialty


def test_the_load_counts_the_other_open_applications_whose_panel_the_expert_sits_on():
    busy, idle, excluded = factories.user(Role.EXPERT), factories.user(Role.EXPERT), factories.user(Role.EXPERT)
    # Two open evaluations with ``busy`` on the panel; ``idle`` on one; ``excluded`` left one of them.
    first, second = Cast(factories.school()), Cast(factories.school())
    first.experts = [busy, idle, excluded]
    second.experts = [busy, factories.user(Role.EXPERT), excluded]
    left = first.with_panel()
    second.with_panel()
    services.panel_declare_conflict(application=left, actor=excluded, note="曾在该校任职")
    closed = Cast(factories.school())
    closed.experts = [idle, factories.user(Role.EXPERT), factories.user(Role.EXPERT)]
    closed.filed()  # a filed application is no longer open: not counted

    cast = Cast(factories.school())
    app = cast.under_evaluation()
    html = panel_page(cast, app)
    assert load_of(html, busy) == "2 件"
    assert load_of(html, idle) == "1 件"
    assert load_of(html, excluded) == "1 件"  # the seat they left is not counted, the other one is
    assert load_of(html, cast.experts[0]) == "0 件"


def test_the_load_does_not_count_this_application_when_the_panel_is_formed_again():
    cast = Cast(factories.school())
    app = cast.with_panel()
    html = panel_page(cast, app)
    assert load_of(html, cast.lead) == "0 件"


def test_conflicts_declared_before_are_listed_and_one_with_this_school_is_warned_about():
    school = factories.school()
    cast = Cast(school)
    first = cast.with_panel()
    conflicted = cast.experts[2]
    services.panel_declare_conflict(application=first, actor=conflicted, note="曾在该校兼职授课")
    cast.record_all_findings(first, satisfied=False)
    services.panel_conclude(application=first, actor=cast.lead, passed=False, opinion="条件不具备")

    elsewhere = Cast(factories.school(name="另一所职业学院"))
    elsewhere.experts = [factories.user(Role.EXPERT), cast.experts[1], factories.user(Role.EXPERT)]
    other = elsewhere.with_panel()
    services.panel_declare_conflict(application=other, actor=cast.experts[1], note="亲属在该校任教")

    for n, expert in enumerate(cast.experts):
        expert.full_name = f"专家{n}"
        expert.save(update_fields=["full_name"])
    second = cast.under_evaluation(kind=ApplicationKind.INITIAL)
    html = panel_page(cast, second)
    assert "曾在该校兼职授课" in row(html, conflicted) and school.name in row(html, conflicted)
    assert "亲属在该校任教" in row(html, cast.experts[1]) and "另一所职业学院" in row(html, cast.experts[1])
    warning = re.search(r'data-testid="conflict-warning">(.*?)</div>', html, re.S).group(1)
    assert str(conflicted) in warning and str(cast.experts[1]) not in warning
    assert "无" in row(html, cast.lead)


def test_the_profiles_take_a_fixed_number_of_queries_however_many_experts_there_are():
    cast = Cast(factories.school())
    app = cast.under_evaluation()
    url = reverse("institutions:panel_form", args=[app.pk])
    client = client_for(cast.centre)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    queries()  # warm: the first request of a session reads a few things once
    before = queries()
    for _ in range(5):
        expert = factories.user(Role.EXPERT)
        other = Cast(factories.school())
        other.experts = [expert, *other.experts[1:]]
        other.with_panel()
    assert queries() == before
