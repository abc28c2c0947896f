"""Coverage of majors against the hand-computed fixture of tests/oversight/test_coverage_world.py.

Each test is named after the rule it checks (oversight/services/coverage.py's docstring)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from institutions.models import InstitutionEvent, InstitutionStatus
from oversight.models import CoverageChannel, MajorCoverage, UncoveredReason
from oversight.selectors.coverage import (
    coverage_figures,
    coverage_rows,
    coverage_trend,
    uncovered_majors,
)
from oversight.services.coverage import refresh_coverage
from portal.models import District
from tests.oversight import test_coverage_world as w

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    built = w.build()
    refresh_coverage(w.CURRENT, today=w.TODAY)
    refresh_coverage(w.ENDED, today=w.TODAY)
    return built


def row(world, key: str, year: int = w.CURRENT) -> MajorCoverage:
    return MajorCoverage.objects.get(major=world.majors[key], school_year=year)


def test_a_major_covered_by_its_schools_filing_in_force_counts(world):
    r = row(world, "A1")
    assert r.covered and r.channels == CoverageChannel.IN_SCHOOL and r.reason == ""
    assert r.graduating_students == 2  # only the students graduating in 2026–2027


def test_a_major_covered_only_by_a_social_evaluation_organisation_counts(world):
    r = row(world, "A4")
    assert r.covered
    assert r.channels == CoverageChannel.SOCIAL_ORG
    assert r.reason == ""


def test_a_skills_competition_covers_a_major_of_a_school_without_an_institution(world):
    r = row(world, "C1")
    assert r.covered and r.channels == CoverageChannel.COMPETITION


def test_a_withdrawn_evaluation_does_not_count(world):
    r = row(world, "A5")
    assert not r.covered and r.reason == UncoveredReason.NO_OCCUPATION


def test_a_major_with_no_corresponding_filed_occupation_is_uncovered_as_no_occupation(world):
    assert row(world, "C2").reason == UncoveredReason.NO_OCCUPATION


def test_an_expired_filing_leaves_its_major_uncovered_as_expired(world):
    r = row(world, "A2")
    assert not r.covered and r.reason == UncoveredReason.EXPIRED


def test_a_filing_past_its_end_date_is_expired_even_before_the_expiry_job_marks_it(world):
    from institutions.models import InstitutionOccupation

    InstitutionOccupation.objects.filter(pk=w.occupations(1)[0].pk)  # noqa: B018 - same catalogue
    filing = InstitutionOccupation.objects.get(application__school=world.b, occupation=w.occupations(2)[1])
    InstitutionOccupation.objects.filter(pk=filing.pk).update(valid_until=w.TODAY - dt.timedelta(days=1))
    refresh_coverage(w.CURRENT, today=w.TODAY)
    assert row(world, "B3").reason == UncoveredReason.EXPIRED


def test_a_suspended_filing_leaves_its_major_uncovered_as_suspended(world):
    r = row(world, "A3")
    assert not r.covered and r.reason == UncoveredReason.SUSPENDED


def test_a_suspended_institution_suspends_every_filing_of_it(world):
    from institutions.models import Institution

    Institution.objects.filter(school=world.b).update(status=InstitutionStatus.SUSPENDED)
    refresh_coverage(w.CURRENT, today=w.TODAY)
    assert row(world, "B1").reason == UncoveredReason.SUSPENDED
    assert row(world, "B3").reason == UncoveredReason.SUSPENDED


def test_a_major_without_graduating_year_students_is_not_counted(world):
    assert not MajorCoverage.objects.filter(major=world.majors["B2"]).exists()


def test_an_ended_year_counts_a_filing_only_if_a_batch_was_held_in_it(world):
    assert row(world, "A1", w.ENDED).covered  # accepted batch on 2026-03-10
    r = row(world, "B1", w.ENDED)  # only a withdrawn plan
    assert not r.covered and r.reason == UncoveredReason.NO_BATCH
    assert MajorCoverage.objects.filter(school_year=w.ENDED).count() == 2


def test_an_ended_year_reads_a_suspension_from_the_directory_log_at_the_years_end(world):
    from institutions.models import InstitutionOccupation

    filing = InstitutionOccupation.objects.get(application__school=world.b, occupation=w.occupations(1)[0])
    event = InstitutionEvent.objects.create(
        institution=filing.institution, occupation=filing, action="suspend", to_status=InstitutionStatus.SUSPENDED
    )
    InstitutionEvent.objects.filter(pk=event.pk).update(created_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    refresh_coverage(w.ENDED, today=w.TODAY)
    assert row(world, "B1", w.ENDED).reason == UncoveredReason.SUSPENDED
    # A suspension after the year ended says nothing about that year.
    InstitutionEvent.objects.filter(pk=event.pk).update(created_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
    refresh_coverage(w.ENDED, today=w.TODAY)
    assert row(world, "B1", w.ENDED).reason == UncoveredReason.NO_BATCH


def test_a_filing_of_another_school_never_covers_a_major(world):
    """The correspondence runs through the school's own institution's application only."""
    from institutions.models import AppliedOccupation

    applied = AppliedOccupation.objects.get(application__school=world.b, occupation=w.occupations(1)[0])
    applied.majors.add(world.majors["C2"])  # as if listed under another school's filing
    refresh_coverage(w.CURRENT, today=w.TODAY)
    assert row(world, "C2").reason == UncoveredReason.NO_OCCUPATION


def test_the_reason_kept_is_that_of_the_filing_nearest_to_covering(world):
    """A2 gets a second, suspended filing: suspended is nearer than expired."""
    from institutions.models import InstitutionOccupation

    fa = InstitutionOccupation.objects.filter(application__school=world.a).first()
    filed = w.Filed(school=world.a, staff=None, institution=fa.institution, application=fa.application, site=None)
    filed.occupation(w.occupations(4)[3], [world.majors["A2"]], status=InstitutionStatus.SUSPENDED)
    refresh_coverage(w.CURRENT, today=w.TODAY)
    assert row(world, "A2").reason == UncoveredReason.SUSPENDED


def test_city_district_and_school_figures_match_the_hand_count(world):
    city = coverage_figures(school_year=w.CURRENT)
    assert (city.total, city.covered, city.rate, city.meets_target) == (9, 5, Decimal("55.6"), False)
    pudong = District.objects.get(code="310115")
    minhang = District.objects.get(code="310112")
    d1 = coverage_figures(school_year=w.CURRENT, district=pudong)
    d2 = coverage_figures(school_year=w.CURRENT, district=minhang)
    assert (d1.total, d1.covered, d1.rate) == (7, 4, Decimal("57.1"))
    assert (d2.total, d2.covered, d2.rate) == (2, 1, Decimal("50.0"))
    a = coverage_figures(school_year=w.CURRENT, school=world.a)
    b = coverage_figures(school_year=w.CURRENT, school=world.b)
    assert (a.total, a.covered, a.rate, a.meets_target) == (5, 2, Decimal("40.0"), False)
    assert (b.total, b.covered, b.rate, b.meets_target) == (2, 2, Decimal("100.0"), True)
    assert city.computed_at is not None


def test_the_target_is_a_setting(world, settings):
    settings.PORTAL_COVERAGE_TARGET = 55
    assert coverage_figures(school_year=w.CURRENT).meets_target
    settings.PORTAL_COVERAGE_TARGET = 56
    assert not coverage_figures(school_year=w.CURRENT).meets_target


def test_a_year_without_rows_has_no_rate(world):
    empty = coverage_figures(school_year=2019)
    assert (empty.total, empty.rate, empty.meets_target, empty.computed_at) == (0, None, False, None)


def test_rows_per_district_list_every_district_and_per_school_within_one(world):
    rows = {r.name: r.figures for r in coverage_rows(school_year=w.CURRENT)}
    assert len(rows) == District.objects.count()
    pudong = District.objects.get(code="310115")
    assert (rows[pudong.name].total, rows[pudong.name].covered) == (7, 4)
    assert rows["黄浦区"].total == 0 and rows["黄浦区"].rate is None
    schools = {
        r.name: (r.figures.total, r.figures.covered) for r in coverage_rows(school_year=w.CURRENT, district=pudong)
    }
    assert schools == {"甲职业学院": (5, 2), "乙职业学院": (2, 2)}


def test_uncovered_majors_carry_their_reasons(world):
    found = {m.major.name: m.reason for m in uncovered_majors(school_year=w.CURRENT)}
    assert found == {
        "专业A2": UncoveredReason.EXPIRED,
        "专业A3": UncoveredReason.SUSPENDED,
        "专业A5": UncoveredReason.NO_OCCUPATION,
        "专业C2": UncoveredReason.NO_OCCUPATION,
    }


def test_the_trend_lists_each_school_year_computed(world):
    trend = coverage_trend()
    assert [(f.school_year, f.total, f.covered, f.rate) for f in trend] == [
        (2025, 2, 1, Decimal("50.0")),
        (2026, 9, 5, Decimal("55.6")),
    ]
    assert [(f.school_year, f.total) for f in coverage_trend(school=world.c)] == [(2026, 2)]


def test_a_future_school_year_is_refused(world):
    with pytest.raises(ValidationError):
        refresh_coverage(w.CURRENT + 1, today=w.TODAY)


def test_refreshing_again_replaces_the_rows_and_changes_nothing_else(world):
    before = list(MajorCoverage.objects.filter(school_year=w.CURRENT).values_list("major_id", "covered", "reason"))
    refresh_coverage(w.CURRENT, today=w.TODAY)
    after = list(MajorCoverage.objects.filter(school_year=w.CURRENT).values_list("major_id", "covered", "reason"))
    assert sorted(before) == sorted(after)
    assert MajorCoverage.objects.filter(school_year=w.ENDED).count() == 2  # the other year untouched


def _refresh_queries() -> int:
    with CaptureQueriesContext(connection) as ctx:
        refresh_coverage(w.CURRENT, today=w.TODAY)
    return len(ctx.captured_queries)


def test_refresh_takes_the_same_number_of_queries_at_two_sizes(world):
    small = _refresh_queries()
    w.grow(25)
    large = _refresh_queries()
    assert MajorCoverage.objects.filter(school_year=w.CURRENT).count() == 9 + 50
    assert large == small, (small, large)


def test_beat_refreshes_the_current_and_the_previous_school_year_daily(world, settings):
    from oversight.tasks import refresh_coverage_daily
    from schools.models import academic_year_of

    entry = settings.CELERY_BEAT_SCHEDULE["coverage-refresh"]
    assert entry["task"] == "oversight.tasks.refresh_coverage_daily"
    MajorCoverage.objects.all().delete()
    done = refresh_coverage_daily()
    current = academic_year_of(timezone.localdate())
    assert [d["school_year"] for d in done] == [current - 1, current]
