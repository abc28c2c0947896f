"""Every role's batch list, its filters and its Excel export (issue 8 item 11)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assessments import services as plan_services
from assessments.models import (
    AssessmentMethod,
    BatchStaff,
    Candidate,
    Duty,
    EvaluationPlan,
    PlanStatus,
    ResultFiling,
    SupervisionAssignment,
)
from institutions.models import Institution
from portal.models import Role
from schools.models import Level
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def make_plan(cast, *, submit: bool = True, day: int = 10) -> EvaluationPlan:
    inst = Institution.objects.get(school=cast.school)
    start = timezone.make_aware(dt.datetime(2026, 12, day, 9))
    plan = plan_services.plan_create(
        institution=inst,
        actor=cast.staff,
        occupation=inst.occupations.get(),
        level=Level.LEVEL_4,
        site=inst.sites.get(),
        method=AssessmentMethod.RESULT,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=8),
    )
    return plan_services.plan_submit(plan=plan, actor=cast.staff) if submit else plan


def copies(plan: EvaluationPlan, n: int, **fields) -> list[EvaluationPlan]:
    """More filed batches like ``plan``, written directly (the list is what is measured here)."""
    keep = {f.attname: getattr(plan, f.attname) for f in EvaluationPlan._meta.concrete_fields if f.attname != "id"}
    return EvaluationPlan.objects.bulk_create([EvaluationPlan(**{**keep, **fields}) for _ in range(n)])


def bureau(district_code: str):
    org = factories.organisation("district_hr", district_code=district_code)
    return factories.user(Role.DISTRICT_HR_OFFICER, organisation=org)


def listed(user, query: str = "") -> set[int]:
    """The batch numbers on the list page (all pages: the test data stays under one page)."""
    page = client_for(user).get(reverse("assessments:plan_list") + query)
    assert page.status_code == 200
    context = page.context
    return {p.pk for p in context["page"]}


@pytest.fixture
def city():
    """Two filed schools in two districts, each with a draft and a filed batch."""
    pudong = Cast(factories.school(district_code="310115"))
    pudong.filed()
    xuhui = Cast(factories.school(district_code="310104"))
    xuhui.filed()
    return {
        "pudong": pudong,
        "xuhui": xuhui,
        "pudong_draft": make_plan(pudong, submit=False),
        "pudong_filed": make_plan(pudong),
        "xuhui_draft": make_plan(xuhui, submit=False),
        "xuhui_filed": make_plan(xuhui, day=11),
    }


# --- Scope per role ------------------------------------------------------------------------------


def test_rule_each_role_lists_its_own_batches(city):
    p_draft, p_filed, x_filed = city["pudong_draft"].pk, city["pudong_filed"].pk, city["xuhui_filed"].pk
    # The school: its own, drafts included.
    assert listed(city["pudong"].staff) == {p_draft, p_filed}
    # The centre and the city-wide authorities: every filed batch, no drafts.
    assert listed(city["pudong"].centre) == {p_filed, x_filed}
    assert listed(city["pudong"].hr) == {p_filed, x_filed}
    # A district bureau: its district's schools.
    assert listed(bureau("310115")) == {p_filed}
    assert listed(bureau("310104")) == {x_filed}
    # A supervisor and a batch's staff: the batches they are on.
    supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    SupervisionAssignment.objects.create(
        plan=city["xuhui_filed"], supervisor=supervisor, body="centre", assigned_by=city["pudong"].centre
    )
    assert listed(supervisor) == {x_filed}
    examiner = factories.user(Role.EXPERT)
    BatchStaff.objects.create(
        plan=city["pudong_filed"], person=examiner, duty=Duty.INTERNAL_SUPERVISOR, added_by=city["pudong"].staff
    )
    assert listed(examiner) == {p_filed}
    assert listed(factories.user(Role.QUALITY_SUPERVISOR)) == set()


# --- Filters -----------------------------------------------------------------------------------


def test_rule_the_centre_filters_by_status_district_occupation_due_date_and_overdue(city):
    centre = city["pudong"].centre
    p_filed, x_filed = city["pudong_filed"], city["xuhui_filed"]
    plan_services.plan_accept(plan=x_filed, actor=centre)
    assert listed(centre, f"?status={PlanStatus.ACCEPTED}") == {x_filed.pk}
    assert listed(centre, f"?status={PlanStatus.SUBMITTED}") == {p_filed.pk}
    district = city["xuhui"].school.organisation.district
    assert listed(centre, f"?district={district.pk}") == {x_filed.pk}
    occupation = p_filed.occupation.occupation
    assert listed(centre, f"?occupation={occupation.pk}") == {p_filed.pk, x_filed.pk}
    EvaluationPlan.objects.filter(pk=p_filed.pk).update(results_due_on=dt.date(2026, 12, 17))
    EvaluationPlan.objects.filter(pk=x_filed.pk).update(results_due_on=dt.date(2026, 12, 24))
    assert listed(centre, "?due_from=2026-12-18") == {x_filed.pk}
    assert listed(centre, "?due_to=2026-12-18") == {p_filed.pk}
    assert listed(centre, "?due_from=2026-12-01&due_to=2026-12-31") == {p_filed.pk, x_filed.pk}
    ResultFiling.objects.create(plan=p_filed, overdue_since=dt.date(2026, 12, 18))
    ResultFiling.objects.create(plan=x_filed)
    assert listed(centre, "?overdue=on") == {p_filed.pk}
    # Combined, and still inside the user's scope: a district bureau cannot widen it by a filter.
    assert listed(centre, f"?overdue=on&district={district.pk}") == set()
    assert listed(bureau("310115"), f"?district={district.pk}") == {p_filed.pk}
    page = client_for(bureau("310115")).get(reverse("assessments:plan_list")).content.decode()
    assert 'name="district"' not in page and 'name="status"' in page


def test_the_list_shows_the_due_date_candidates_and_result_status(city):
    plan = city["pudong_filed"]
    EvaluationPlan.objects.filter(pk=plan.pk).update(results_due_on=dt.date(2026, 12, 17))
    ResultFiling.objects.create(plan=plan)
    major = factories.major(city["pudong"].school)
    for _ in range(3):
        Candidate.objects.create(
            plan=plan,
            student=factories.student(major),
            occupation=plan.occupation.occupation,
            level=plan.level,
            added_by=city["pudong"].staff,
        )
    page = client_for(city["pudong"].centre).get(reverse("assessments:plan_list"))
    row = next(p for p in page.context["page"] if p.pk == plan.pk)
    assert row.candidate_count == 3
    text = page.content.decode()
    assert "2026-12-17" in text and "待报送" in text


# --- Export ------------------------------------------------------------------------------------


def test_rule_the_export_holds_the_filtered_list_in_the_users_scope(city):
    centre = city["pudong"].centre
    x_filed = city["xuhui_filed"]
    district = city["xuhui"].school.organisation.district
    response = client_for(centre).get(reverse("assessments:plan_list_export") + f"?district={district.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(BytesIO(response.content))
    ws = wb["评价计划"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "评价机构", "机构代码")
    assert [r[0] for r in rows[1:]] == [x_filed.pk]
    assert rows[1][1] == x_filed.institution.name and rows[1][3] == district.name
    assert rows[1][9] == "已报备，待市职鉴中心审核" and rows[1][10] == 0
    notes = {r[0]: r[1] for r in wb["导出说明"].iter_rows(values_only=True)}
    assert notes["计划数"] == 1 and district.name in notes["筛选条件"]
    # The school's export holds its own batches only, drafts included.
    own = client_for(city["pudong"].staff).get(reverse("assessments:plan_list_export"))
    ids = [r[0] for r in list(load_workbook(BytesIO(own.content))["评价计划"].iter_rows(values_only=True))[1:]]
    assert sorted(ids) == sorted([city["pudong_draft"].pk, city["pudong_filed"].pk])
    # Someone with no batches gets an empty sheet, not someone else's.
    none = client_for(factories.user(Role.QUALITY_SUPERVISOR)).get(reverse("assessments:plan_list_export"))
    assert list(load_workbook(BytesIO(none.content))["评价计划"].iter_rows(values_only=True))[1:] == []


# --- Speed -------------------------------------------------------------------------------------


def _queries(user, url: str) -> int:
    client = client_for(user)
    client.get(url)  # warm caches (session, menus)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow(city, n: int) -> None:
    """``n`` more filed batches in each school, with candidates, result filings and a supervisor each."""
    supervisor = city["supervisor"]
    for key in ("pudong", "xuhui"):
        base = city[f"{key}_filed"]
        major = factories.major(city[key].school)
        for plan in copies(base, n):
            ResultFiling.objects.create(plan=plan, overdue_since=dt.date(2026, 12, 20))
            Candidate.objects.create(
                plan=plan,
                student=factories.student(major),
                occupation=plan.occupation.occupation,
                level=plan.level,
                added_by=city[key].staff,
            )
            SupervisionAssignment.objects.create(
                plan=plan, supervisor=supervisor, body="centre", assigned_by=city["pudong"].centre
            )


def test_rule_the_batch_lists_keep_a_constant_number_of_queries(city):
    city["supervisor"] = factories.user(Role.QUALITY_SUPERVISOR)
    users = {
        "centre": city["pudong"].centre,
        "school": city["pudong"].staff,
        "district": bureau("310115"),
        "supervisor": city["supervisor"],
    }
    urls = [
        reverse("assessments:plan_list"),
        reverse("assessments:plan_list") + "?overdue=on&due_from=2026-12-01",
        reverse("assessments:plan_list_export"),
    ]
    _grow(city, 2)
    small = {(who, url): _queries(user, url) for who, user in users.items() for url in urls}
    _grow(city, 12)
    large = {(who, url): _queries(user, url) for who, user in users.items() for url in urls}
    assert large == small
    assert len(listed(users["supervisor"])) == 28
