"""Role dashboards (issue 10 item 2): each number is the row count of the list it links to, within
the role's scope (a district bureau: its district only), in a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import EvaluationPlan, PlanStatus, ResultFiling, ResultStatus, SupervisionAssignment
from certificates.models import RequestKind
from certificates.services import records, reporting
from oversight.selectors.dashboards import dashboards_for
from portal.models import Role
from tests import factories
from tests.assessments.test_results_builders import FILED_ON
from tests.certificates.test_records_builders import issued
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db

# The dashboards are read on 25 Jan 2027: the December batches are long over, their certificates
# (issued 20 Dec) past the 30-day reporting period.
NOW = dt.datetime(2027, 1, 25, 2, 0, tzinfo=dt.UTC)
PUDONG, XUHUI = "310115", "310104"


def _at(day: dt.date, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def copies(plan: EvaluationPlan, n: int, **fields) -> list[EvaluationPlan]:
    """More batches like ``plan``, written directly (what is measured is the counting, not the filing)."""
    keep = {f.attname: getattr(plan, f.attname) for f in EvaluationPlan._meta.concrete_fields if f.attname != "id"}
    return EvaluationPlan.objects.bulk_create([EvaluationPlan(**{**keep, **fields}) for _ in range(n)])


def bureau(district_code: str):
    org = factories.organisation("district_hr", district_code=district_code)
    return factories.user(Role.DISTRICT_HR_OFFICER, organisation=org)


def add_queues(plan: EvaluationPlan, staff, centre, n: int = 1) -> None:
    """``n`` rows of every queue a dashboard counts, on copies of ``plan`` (its school, its district)."""
    this_month = _at(dt.date(2027, 1, 12))
    copies(plan, n, status=PlanStatus.SUBMITTED)
    copies(plan, n, status=PlanStatus.RETURNED)
    # Held batches of this month that ended without results: results due (no filing yet).
    copies(plan, n, status=PlanStatus.ACCEPTED, starts_at=this_month, ends_at=this_month + dt.timedelta(hours=8))
    for p in copies(plan, n, status=PlanStatus.ACCEPTED):
        ResultFiling.objects.create(plan=p, status=ResultStatus.SUBMITTED)
    for p in copies(plan, n, status=PlanStatus.ACCEPTED):
        ResultFiling.objects.create(plan=p, status=ResultStatus.OPEN, overdue_since=dt.date(2026, 12, 11))
    for p in copies(plan, n, status=PlanStatus.ACCEPTED):
        SupervisionAssignment.objects.create(
            plan=p, supervisor=centre, body="centre", assigned_by=centre, report="正常", report_filed_at=timezone.now()
        )


@pytest.fixture
def city():
    """Two filed schools in two districts with issued certificates and a row in every queue; two more
    schools (one per district) with a filing application in progress."""
    out = {}
    for name, code in (("pudong", PUDONG), ("xuhui", XUHUI)):
        with time_machine.travel(FILED_ON, tick=False):
            cast = Cast(factories.school(district_code=code))
            cast.filed()
        out[name] = issued(2, cast=cast)
    pudong, xuhui = out["pudong"], out["xuhui"]
    # Pudong reports its certificates (the centre has a report to receive); Xuhui's stay unreported,
    # and Xuhui asks to revoke one.
    reporting.report_submit(plan=pudong.plan, actor=pudong.staff)
    records.request_create(
        certificate=xuhui.certificates[0], actor=xuhui.staff, kind=RequestKind.REVOKE, reason="信息有误"
    )
    with time_machine.travel(FILED_ON, tick=False):
        Cast(factories.school(district_code=PUDONG)).under_evaluation()
        Cast(factories.school(district_code=XUHUI)).submitted()
    for b in (pudong, xuhui):
        add_queues(b.plan, b.staff, b.centre)
    out["people"] = {
        "commission": pudong.b.cast.commission,
        "dept": pudong.b.cast.dept,
        "centre": pudong.centre,
        "hr": pudong.b.cast.hr,
        "pudong_bureau": bureau(PUDONG),
        "xuhui_bureau": bureau(XUHUI),
        "pudong_school": pudong.staff,
        "xuhui_school": xuhui.staff,
    }
    return out


def rows_behind(user, figure) -> int:
    """The number of rows the figure's link shows to the same user."""
    page = client_for(user).get(figure.url)
    assert page.status_code == 200, (figure.key, figure.url, page.status_code)
    if figure.key == "to_report":  # the report page's part for the school: its batches still to report
        return len(page.context["pending"])
    return page.context["page"].paginator.count


def figures_of(user) -> dict[str, object]:
    return {f.key: f for d in dashboards_for(user) for f in d.figures}


def counts_of(user) -> dict[str, int | None]:
    """The numbers this part counts itself (without those other oversight parts publish)."""
    return {k: f.count for k, f in figures_of(user).items() if k not in LATER}


EXPECTED_KEYS = {
    "commission": {"applications", "awaiting_consent", "unfiled_schools"},
    "dept": {"applications", "awaiting_consent", "unfiled_schools"},
    "centre": {
        "evaluations",
        "to_confirm",
        "plans_to_review",
        "results_to_review",
        "results_due",
        "results_overdue",
        "reports_to_receive",
        "unreported",
        "requests",
    },
    "hr": {"institutions", "batches", "batches_this_month", "certificates"},
    "pudong_bureau": {"batches_this_month", "results_overdue", "supervision_reports"},
    "xuhui_bureau": {"batches_this_month", "results_overdue", "supervision_reports"},
    "pudong_school": {"plans", "plans_returned", "results_due", "results_overdue", "to_report", "requests"},
    "xuhui_school": {"plans", "plans_returned", "results_due", "results_overdue", "to_report", "requests"},
}
# Figures other oversight parts publish once their pages exist (coverage, cases, complaints, statistics).
LATER = {"coverage", "cases", "complaints", "occupations", "candidates", "pass_rate"}


def test_rule_each_number_is_the_row_count_of_the_list_it_links_to(city):
    with time_machine.travel(NOW, tick=False):
        for who, user in city["people"].items():
            figures = figures_of(user)
            assert EXPECTED_KEYS[who] <= set(figures), who
            for key, figure in figures.items():
                if key in LATER:
                    continue  # published by other parts: tested in test_dashboards_parts
                assert figure.count == rows_behind(user, figure), (who, key, figure.url)
                assert figure.value == str(figure.count)


def test_rule_the_fixture_puts_rows_in_every_queue_inside_and_outside_each_scope(city):
    """The equality above means something: the numbers are not zero, and they differ by scope."""
    with time_machine.travel(NOW, tick=False):
        centre = {k: f.count for k, f in figures_of(city["people"]["centre"]).items()}
        assert centre["plans_to_review"] == 2
        assert centre["results_to_review"] == 2
        assert centre["results_overdue"] == 2
        assert centre["results_due"] == 4  # per district: this month's batch and the supervised one
        assert centre["reports_to_receive"] == 1
        assert centre["unreported"] == 2  # Xuhui's two certificates
        assert centre["requests"] == 1
        assert centre["evaluations"] == 1
        commission = {k: f.count for k, f in figures_of(city["people"]["commission"]).items()}
        assert commission["applications"] == 2  # one under evaluation, one submitted
        assert commission["unfiled_schools"] == 2
        hr = {k: f.count for k, f in figures_of(city["people"]["hr"]).items()}
        assert hr["institutions"] == 2
        assert hr["certificates"] == 4
        assert hr["batches_this_month"] == 2


def test_rule_a_district_bureau_sees_only_its_district_in_every_number(city):
    people = city["people"]
    with time_machine.travel(NOW, tick=False):
        pudong = counts_of(people["pudong_bureau"])
        xuhui = counts_of(people["xuhui_bureau"])
        assert pudong == {"batches_this_month": 1, "results_overdue": 1, "supervision_reports": 1}
        assert xuhui == pudong  # the same rows in each district, none of the other's
        # Rows added in Xuhui change Xuhui's numbers only.
        add_queues(city["xuhui"].plan, city["xuhui"].staff, city["xuhui"].centre, n=2)
        assert counts_of(people["pudong_bureau"]) == pudong
        assert counts_of(people["xuhui_bureau"]) == {
            "batches_this_month": 3,
            "results_overdue": 3,
            "supervision_reports": 3,
        }


def test_rule_a_school_counts_only_its_own_rows(city):
    people = city["people"]
    with time_machine.travel(NOW, tick=False):
        pudong = {k: f.count for k, f in figures_of(people["pudong_school"]).items()}
        xuhui = {k: f.count for k, f in figures_of(people["xuhui_school"]).items()}
    assert pudong["to_report"] == 0 and xuhui["to_report"] == 1  # Pudong reported its batch
    assert pudong["requests"] == 0 and xuhui["requests"] == 1
    assert pudong["results_overdue"] == xuhui["results_overdue"] == 1


def test_rule_numbers_not_for_a_role_are_not_shown_to_it(city):
    people = city["people"]
    with time_machine.travel(NOW, tick=False):
        for who, user in people.items():
            shown = set(figures_of(user)) - LATER
            assert shown == EXPECTED_KEYS[who], who
        for role in (Role.EXPERT, Role.QUALITY_SUPERVISOR, Role.SYSTEM_ADMIN):
            assert dashboards_for(factories.user(role)) == []
        # A district officer of a body that is not a district bureau has no district to show.
        assert dashboards_for(factories.user(Role.QUALITY_SUPERVISOR)) == []


def test_rule_the_home_page_is_the_dashboard_and_each_tile_links_to_its_list(city):
    with time_machine.travel(NOW, tick=False):
        user = city["people"]["centre"]
        page = client_for(user).get(reverse("home"))
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-testid="dashboard"' in html
        for figure in figures_of(user).values():
            assert f'href="{figure.url.replace("&", "&amp;")}"' in html
        # The other home panels are still there, after the dashboard.
        panels = page.context["panels"]
        assert panels[0].figures and any(not p.figures for p in panels)


def _queries(user) -> int:
    user = type(user).objects.get(pk=user.pk)  # a fresh instance: nothing cached from an earlier read
    with CaptureQueriesContext(connection) as ctx:
        dashboards_for(user)
    return len(ctx.captured_queries)


def test_rule_each_dashboard_costs_the_same_number_of_queries_however_many_rows(city):
    people = city["people"]
    with time_machine.travel(NOW, tick=False):
        before = {who: _queries(user) for who, user in people.items()}
        for b in (city["pudong"], city["xuhui"]):
            add_queues(b.plan, b.staff, b.centre, n=5)
        after = {who: _queries(user) for who, user in people.items()}
    assert after == before
    assert max(n for who, n in before.items() if who != "hr") <= 10
    # The municipal bureau's city statistics, with no stored summary yet, are computed live (a few more).
    assert before["hr"] <= 16


# --- The figures other oversight parts publish: coverage, cases, complaints, city statistics --------


def test_rule_the_figures_of_the_other_oversight_parts_equal_their_pages(city):
    from oversight.models import ComplainantKind
    from oversight.selectors.coverage import current_school_year
    from oversight.selectors.statistics import city_overview
    from oversight.services.complaints import complaint_submit
    from oversight.services.coverage import refresh_coverage
    from tests.oversight.case_builders import candidate_case

    people = city["people"]
    pudong, xuhui = city["pudong"], city["xuhui"]
    with time_machine.travel(NOW, tick=False):
        candidate_case(pudong)  # an open case in Pudong
        for i in (pudong, xuhui):
            complaint_submit(
                complainant_kind=ComplainantKind.STUDENT,
                contact="13800000000",
                body="考场纪律混乱。",
                institution=i.plan.institution,
            )
        refresh_coverage(current_school_year())
        seen = set()
        for who, user in people.items():
            for key, figure in figures_of(user).items():
                if key in {"cases", "complaints"}:
                    assert figure.count == rows_behind(user, figure), (who, key)
                elif key == "coverage":
                    page = client_for(user).get(figure.url)
                    rate = page.context["figures"].rate
                    assert figure.value == (f"{rate}%" if rate is not None else "—"), who
                elif key in {"candidates", "occupations"}:
                    assert figure.value == str(city_overview(user)[key])
                    assert client_for(user).get(figure.url).status_code == 200
                else:
                    continue
                seen.add(key)
        assert seen == {"cases", "complaints", "coverage", "candidates", "occupations"}
        assert figures_of(people["centre"])["cases"].count == 1
        assert figures_of(people["centre"])["complaints"].count == 2
        assert figures_of(people["pudong_bureau"])["cases"].count == 1
        assert figures_of(people["xuhui_bureau"])["cases"].count == 0
        assert figures_of(people["pudong_school"])["coverage"].hint  # the school year and the target


def test_rule_the_stored_city_statistics_state_their_as_of_time(city):
    from oversight.services.statistics import figures_refresh

    hr = city["people"]["hr"]
    with time_machine.travel(NOW, tick=False):
        figures_refresh()
        stored = [f for f in figures_of(hr).values() if f.key in {"candidates", "pass_rate", "occupations"}]
    assert len(stored) == 3 and all("2027-01-25" in f.hint for f in stored)
    assert figures_of(hr)["candidates"].value == "4"  # the two issued batches' candidates
