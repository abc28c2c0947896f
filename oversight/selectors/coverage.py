"""Oversight: coverage selectors (what pages, dashboards and exports count).

Every number is read from the materialised ``MajorCoverage`` rows (oversight.services.coverage),
never recomputed here, so each answer costs one query whatever the size of the city and states
its as-of time (``computed_at``). Scope: the commission, its department, the centre and the
municipal HR bureau see the city; a district bureau its district only; school staff their own
school only (``coverage_scope_for``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from oversight.models import ExternalEvaluation, MajorCoverage
from portal.models import District, OrganisationKind, Role
from schools.models import School, academic_year_of

__all__ = [
    "CITY_ROLES",
    "COVERAGE_ROLES",
    "CoverageFigures",
    "CoverageRow",
    "CoverageScope",
    "coverage_figures",
    "coverage_majors",
    "coverage_rows",
    "coverage_scope_for",
    "coverage_trend",
    "coverage_years",
    "current_school_year",
    "external_evaluation_list",
    "external_evaluation_detail",
    "target",
    "uncovered_majors",
]

CITY_ROLES = frozenset(
    {Role.COMMISSION_OFFICER, Role.COMMISSION_DEPT_OFFICER, Role.CENTRE_REVIEWER, Role.MUNICIPAL_HR_OFFICER}
)
COVERAGE_ROLES = CITY_ROLES | {Role.DISTRICT_HR_OFFICER, Role.SCHOOL_STAFF}


def target() -> Decimal:
    return Decimal(getattr(settings, "PORTAL_COVERAGE_TARGET", 80))


def current_school_year(today: dt.date | None = None) -> int:
    return academic_year_of(today or timezone.localdate())


# --- Scope ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageScope:
    """What a user may see: the city (both None), one district, or one school (with its district)."""

    district: District | None = None
    school: School | None = None

    @property
    def level(self) -> str:
        return "school" if self.school else "district" if self.district else "city"

    def allows(self, *, district: District | None = None, school: School | None = None) -> bool:
        if self.school is not None:
            return school is not None and school.pk == self.school.pk
        if self.district is not None:
            if school is not None:
                return school.organisation.district_id == self.district.pk
            return district is not None and district.pk == self.district.pk
        return True


def coverage_scope_for(user) -> CoverageScope | None:
    """City for the commission, its department, the centre and the municipal HR bureau (and
    superusers); a district bureau: its district; school staff: their school; anyone else: None."""
    if not user.is_authenticated:
        return None
    if user.is_superuser or user.has_role(*CITY_ROLES):
        return CoverageScope()
    org = user.organisation
    if org is None:
        return None
    if user.has_role(Role.DISTRICT_HR_OFFICER) and org.kind == OrganisationKind.DISTRICT_HR and org.district_id:
        return CoverageScope(district=org.district)
    if user.has_role(Role.SCHOOL_STAFF) and org.kind == OrganisationKind.SCHOOL:
        school = School.objects.select_related("organisation__district").filter(organisation=org).first()
        if school is not None:
            return CoverageScope(district=org.district, school=school)
    return None


def _rows(*, school_year: int | None, district=None, school=None) -> QuerySet[MajorCoverage]:
    qs = MajorCoverage.objects.all()
    if school_year is not None:
        qs = qs.filter(school_year=school_year)
    if school is not None:
        qs = qs.filter(school=school)
    elif district is not None:
        qs = qs.filter(district=district)
    return qs


# --- Figures -------------------------------------------------------------------------


def _rate(covered: int, total: int) -> Decimal | None:
    if not total:
        return None
    return (Decimal(covered) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CoverageFigures:
    """Majors with graduating-year students (``total``), those covered, the rate as a percentage
    (one decimal; None with no majors), whether it meets the target, and the as-of time."""

    total: int
    covered: int
    rate: Decimal | None
    meets_target: bool
    computed_at: dt.datetime | None
    school_year: int | None = None

    @property
    def uncovered(self) -> int:
        return self.total - self.covered

    @classmethod
    def of(cls, total: int, covered: int, computed_at=None, school_year=None) -> CoverageFigures:
        rate = _rate(covered, total)
        return cls(
            total=total,
            covered=covered,
            rate=rate,
            meets_target=rate is not None and rate >= target(),
            computed_at=computed_at,
            school_year=school_year,
        )


def coverage_figures(*, school_year: int, district=None, school=None) -> CoverageFigures:
    """One query: the figures for the city, one district or one school."""
    got = _rows(school_year=school_year, district=district, school=school).aggregate(
        total=Count("id"), covered=Count("id", filter=Q(covered=True)), computed_at=Max("computed_at")
    )
    return CoverageFigures.of(got["total"], got["covered"], got["computed_at"], school_year)


@dataclass(frozen=True)
class CoverageRow:
    """One line of a drill-down table: a district or a school with its figures."""

    pk: int
    name: str
    figures: CoverageFigures
    district_id: int | None = None


def coverage_rows(*, school_year: int, district=None, school=None, by: str | None = None) -> list[CoverageRow]:
    """Per district (city level: every district, those without majors at 0) or per school (within
    a district, or the one school). ``by`` forces "district" or "school"; one query, two for districts."""
    by = by or ("district" if district is None and school is None else "school")
    qs = _rows(school_year=school_year, district=district, school=school)
    if by == "district":
        grouped = {
            g["district_id"]: g
            for g in qs.values("district_id")
            .annotate(total=Count("id"), covered=Count("id", filter=Q(covered=True)), at=Max("computed_at"))
            .order_by()
        }
        return [
            CoverageRow(
                pk=d.pk,
                name=d.name,
                figures=CoverageFigures.of(
                    grouped.get(d.pk, {}).get("total", 0),
                    grouped.get(d.pk, {}).get("covered", 0),
                    grouped.get(d.pk, {}).get("at"),
                    school_year,
                ),
                district_id=d.pk,
            )
            for d in District.objects.order_by("code")
        ]
    grouped_schools = (
        qs.values("school_id", "school__organisation__name", "district_id")
        .annotate(total=Count("id"), covered=Count("id", filter=Q(covered=True)), at=Max("computed_at"))
        .order_by("school__organisation__name")
    )
    return [
        CoverageRow(
            pk=g["school_id"],
            name=g["school__organisation__name"],
            figures=CoverageFigures.of(g["total"], g["covered"], g["at"], school_year),
            district_id=g["district_id"],
        )
        for g in grouped_schools
    ]


def coverage_majors(*, school_year: int, district=None, school=None) -> QuerySet[MajorCoverage]:
    """The majors counted, uncovered first, with their school and district (one query)."""
    return (
        _rows(school_year=school_year, district=district, school=school)
        .select_related("major", "school__organisation", "district")
        .order_by("covered", "school__organisation__name", "major__code")
    )


def uncovered_majors(*, school_year: int, district=None, school=None) -> QuerySet[MajorCoverage]:
    """The uncovered majors, each with its reason (``get_reason_display``), by district and school."""
    return (
        _rows(school_year=school_year, district=district, school=school)
        .filter(covered=False)
        .select_related("major", "school__organisation", "district")
        .order_by("district__code", "school__organisation__name", "major__code")
    )


def coverage_trend(*, district=None, school=None, years: int | None = None) -> list[CoverageFigures]:
    """The figures of every school year computed, oldest first (the last ``years`` if given); one query."""
    grouped = (
        _rows(school_year=None, district=district, school=school)
        .values("school_year")
        .annotate(total=Count("id"), covered=Count("id", filter=Q(covered=True)), at=Max("computed_at"))
        .order_by("school_year")
    )
    out = [CoverageFigures.of(g["total"], g["covered"], g["at"], g["school_year"]) for g in grouped]
    return out[-years:] if years else out


def coverage_years(today: dt.date | None = None) -> list[int]:
    """School years with rows, and the current one, newest first (one query)."""
    years = set(MajorCoverage.objects.values_list("school_year", flat=True).distinct())
    years.add(current_school_year(today))
    return sorted(years, reverse=True)


# --- Other channels ------------------------------------------------------------------


def _evaluations_in(scope: CoverageScope) -> QuerySet[ExternalEvaluation]:
    qs = ExternalEvaluation.objects.all()
    if scope.school is not None:
        return qs.filter(school=scope.school)
    if scope.district is not None:
        return qs.filter(school__organisation__district=scope.district)
    return qs


def external_evaluation_list(*, user, school_year: int | None = None) -> QuerySet[ExternalEvaluation]:
    scope = coverage_scope_for(user)
    if scope is None:
        return ExternalEvaluation.objects.none()
    qs = _evaluations_in(scope)
    if school_year is not None:
        qs = qs.filter(school_year=school_year)
    return qs.select_related(
        "school__organisation__district", "major", "occupation", "recorded_by", "withdrawn_by"
    ).order_by("-school_year", "withdrawn_at", "school__organisation__name", "major__code", "-id")


def external_evaluation_detail(*, user, pk: int) -> ExternalEvaluation:
    """404 outside the user's scope."""
    scope = coverage_scope_for(user)
    if scope is None:
        raise Http404
    found = (
        _evaluations_in(scope)
        .select_related("school__organisation", "major", "occupation", "recorded_by", "withdrawn_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found
