"""A hand-computed coverage fixture: 2 districts, 3 schools, 10 majors (tests/oversight/test_coverage*.py).

Today is 2026-11-26: the current school year is 2026 (graduating 2027-06-30); 2025 has ended
(graduating 2026-06-30). Filings are built as rows (not through the filing workflow): coverage only
reads them.

School year 2026                                  district 310115 (A, B)     district 310112 (C)
  A1  filed occ1, active                     covered (in school)
  A2  filed occ2, expired                    uncovered: EXPIRED
  A3  filed occ3, suspended                  uncovered: SUSPENDED
  A4  nothing filed; social org recorded     covered (social evaluation organisation only)
  A5  nothing filed; evaluation withdrawn    uncovered: NO_OCCUPATION
  B1  filed occ1, active                     covered (in school)
  B3  filed occ2, active                     covered (in school)
  B2  students graduate in 2028              not counted
  C1  no institution; skills competition     covered (competition)
  C2  no institution                         uncovered: NO_OCCUPATION
  => city 9 majors, 5 covered, 55.6 %; 310115: 7/4 57.1 %; 310112: 2/1 50.0 %;
     A 5/2 40.0 %; B 2/2 100.0 % (meets 80 %); C 2/1 50.0 %.

School year 2025 (ended)
  A1  occ1 with a batch accepted, held 2026-03-10   covered
  B1  occ1, no batch in the year                    uncovered: NO_BATCH
  => 2 majors, 1 covered, 50.0 %.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assessments.models import AssessmentMethod, EvaluationPlan, PlanStatus
from institutions.models import (
    ApplicationStatus,
    AppliedOccupation,
    AssessmentSite,
    FilingApplication,
    Institution,
    InstitutionOccupation,
    InstitutionStatus,
)
from oversight.models import CoverageChannel, ExternalEvaluation
from portal.models import Occupation, OccupationKind, Role
from tests import factories

TODAY = dt.date(2026, 11, 26)
CURRENT, ENDED = 2026, 2025
GRADUATING_NOW = dt.date(2027, 6, 30)
GRADUATING_ENDED = dt.date(2026, 6, 30)
GRADUATING_LATER = dt.date(2028, 6, 30)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_seq = itertools.count(100)


def pdf(name: str = "证明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def occupations(n: int) -> list[Occupation]:
    return list(Occupation.objects.filter(kind=OccupationKind.SKILL, is_access_type=False).order_by("code", "pk")[:n])


@dataclass
class Filed:
    """A school filed as an institution, with one application whose occupations list their majors."""

    school: object
    staff: object
    institution: Institution
    application: FilingApplication
    site: AssessmentSite
    rows: dict = field(default_factory=dict)

    def occupation(
        self, occupation: Occupation, majors: list, *, status: str = InstitutionStatus.ACTIVE, valid_until=None
    ) -> InstitutionOccupation:
        applied = AppliedOccupation.objects.create(
            application=self.application, occupation=occupation, highest_level=4, basis="national_standard"
        )
        applied.majors.set(majors)
        row = InstitutionOccupation.objects.create(
            institution=self.institution,
            application=self.application,
            occupation=occupation,
            highest_level=4,
            basis="national_standard",
            status=status,
            confirmed_on=self.institution.confirmed_on,
            valid_until=valid_until or self.institution.valid_until,
        )
        self.rows[occupation.pk] = row
        return row

    def batch(self, row: InstitutionOccupation, day: dt.date, status: str = PlanStatus.ACCEPTED) -> EvaluationPlan:
        starts = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
        return EvaluationPlan.objects.create(
            institution=self.institution,
            occupation=row,
            level=4,
            site=self.site,
            method=AssessmentMethod.RESULT,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=8),
            status=status,
            created_by=self.staff,
        )


def filed(school, *, confirmed_on=dt.date(2024, 7, 1), valid_until=dt.date(2027, 6, 30)) -> Filed:
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    application = FilingApplication.objects.create(school=school, created_by=staff, status=ApplicationStatus.FILED)
    institution = Institution.objects.create(
        school=school,
        category_letter="S",
        site_sequence=f"{next(_seq):06d}",
        confirmed_on=confirmed_on,
        valid_until=valid_until,
    )
    site = AssessmentSite.objects.create(
        application=application, institution=institution, name="站点", address="实训楼"
    )
    return Filed(school=school, staff=staff, institution=institution, application=application, site=site)


def graduates(major, n: int, on: dt.date = GRADUATING_NOW) -> None:
    for _ in range(n):
        factories.student(major, graduation=on)


def evaluation(major, *, channel: str, actor, year: int = CURRENT, withdrawn: bool = False) -> ExternalEvaluation:
    row = ExternalEvaluation.objects.create(
        school=major.school,
        major=major,
        school_year=year,
        channel=channel,
        provider="测试评价组织",
        evidence_name="证明.pdf",
        evidence_type="application/pdf",
        recorded_by=actor,
    )
    row.evidence.save("evidence.pdf", pdf(), save=False)
    if withdrawn:
        row.withdrawn_at = timezone.now()
        row.withdrawn_by = actor
        row.withdraw_reason = "登记有误"
    row.save()
    return row


@dataclass
class World:
    a: object
    b: object
    c: object
    majors: dict
    centre: object


def build() -> World:
    """The fixture of the module docstring."""
    occ1, occ2, occ3 = occupations(3)
    centre = factories.user(Role.CENTRE_REVIEWER)
    a = factories.school(district_code="310115", name="甲职业学院")
    b = factories.school(district_code="310115", name="乙职业学院")
    c = factories.school(district_code="310112", name="丙职业学院")
    m = {}
    for key, school in (("A1", a), ("A2", a), ("A3", a), ("A4", a), ("A5", a), ("B1", b), ("B2", b), ("B3", b)):
        m[key] = factories.major(school, name=f"专业{key}")
    for key in ("C1", "C2"):
        m[key] = factories.major(c, name=f"专业{key}")
    for key, major in m.items():
        graduates(major, 2, GRADUATING_LATER if key == "B2" else GRADUATING_NOW)
    graduates(m["A1"], 1, GRADUATING_ENDED)
    graduates(m["B1"], 3, GRADUATING_ENDED)

    fa = filed(a)
    row_a1 = fa.occupation(occ1, [m["A1"]])
    fa.occupation(occ2, [m["A2"]], status=InstitutionStatus.EXPIRED, valid_until=dt.date(2026, 8, 31))
    fa.occupation(occ3, [m["A3"]], status=InstitutionStatus.SUSPENDED)
    fa.batch(row_a1, dt.date(2026, 3, 10))  # held in 2025-2026
    fa.batch(row_a1, dt.date(2025, 8, 20), status=PlanStatus.ACCEPTED)  # before 2025-2026 began: not that year's
    fb = filed(b)
    row_b1 = fb.occupation(occ1, [m["B1"]])
    fb.occupation(occ2, [m["B3"]])
    fb.batch(row_b1, dt.date(2026, 4, 1), status=PlanStatus.WITHDRAWN)  # withdrawn: never held
    evaluation(m["A4"], channel=CoverageChannel.SOCIAL_ORG, actor=centre)
    evaluation(m["A5"], channel=CoverageChannel.EMPLOYER, actor=centre, withdrawn=True)
    evaluation(m["C1"], channel=CoverageChannel.COMPETITION, actor=centre)
    return World(a=a, b=b, c=c, majors=m, centre=centre)


def grow(n: int) -> None:
    """``n`` more schools in 310115, each with two majors graduating now (one covered by a filing)."""
    (occ,) = occupations(1)
    for _ in range(n):
        school = factories.school(district_code="310115")
        covered, uncovered = factories.major(school), factories.major(school)
        graduates(covered, 1)
        graduates(uncovered, 1)
        filed(school).occupation(occ, [covered])
