"""A filed institution with a batch plan, written straight to the tables (the filing and planning
workflows are tested elsewhere), for the candidate tests and the access matrix."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from assessments.models import AssessmentMethod, EvaluationPlan, PlanStatus
from institutions.models import (
    AppliedOccupation,
    AssessmentSite,
    ExamRoom,
    ExpertPanel,
    Institution,
    InstitutionOccupation,
    PanelConclusion,
)
from portal.models import Role, User
from portal.validators import id_number_check_char
from schools.models import Level, Major, School, SchoolType, Student, TrainingLevel
from tests import factories
from tests.access_expectations.institutions_directory import institution_for

BATCH_DAY = dt.date(2026, 12, 10)
GRADUATION = dt.date(2027, 6, 30)  # in the 2026–27 school year of the batch
MAJOR_CODE = "460104"


def unique_id(n: int, district: str = "310115") -> str:
    """A GB 11643-valid invented number, unique for n < 365,000 (factories.id_number repeats after 1,000)."""
    birth = dt.date(2005, 1, 1) + dt.timedelta(days=n // 1000)
    first17 = f"{district}{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


@dataclass
class Batch:
    school: School
    staff: User
    centre: User
    institution: Institution
    row: InstitutionOccupation
    applied: AppliedOccupation
    major: Major
    site: AssessmentSite
    plan: EvaluationPlan

    def student(self, n: int, *, major: Major | None = None, school: School | None = None, **fields) -> Student:
        major = major or self.major
        values = {
            "school": school or major.school,
            "major": major,
            "student_number": f"S{n:06d}",
            "name": f"学生{n}",
            "id_number": unique_id(n),
            "enrolment_year": 2024,
            "expected_graduation": GRADUATION,
        }
        values.update(fields)
        return Student.objects.create(**values)

    def another_plan(self, *, level: int | None = None, status: str = PlanStatus.DRAFT) -> EvaluationPlan:
        level = level or self.plan.level
        return make_plan(self.institution, self.row, self.site, self.staff, level=level, status=status)


def make_plan(institution, row, site, staff, *, level=Level.LEVEL_4, status=PlanStatus.DRAFT, day=BATCH_DAY):
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    return EvaluationPlan.objects.create(
        institution=institution,
        occupation=row,
        level=level,
        site=site,
        method=AssessmentMethod.RESULT,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=8),
        status=status,
        created_by=staff,
    )


def filed_batch(
    *,
    school: School | None = None,
    school_type: str = SchoolType.INDEPENDENT_HIGHER,
    staff: User | None = None,
    centre: User | None = None,
    level: int = Level.LEVEL_4,
    training_level: str = TrainingLevel.HIGHER,
    levels: tuple[int, int] = (Level.LEVEL_5, Level.LEVEL_3),
    panel_passed: bool = True,
) -> Batch:
    """A filed institution for welders (6-18-02-04) whose filing names one corresponding major,
    evaluated by a panel that passed it, with one site and a draft batch on 10 December 2026."""
    school = school or factories.school(school_type=school_type)
    staff = staff or factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    centre = centre or factories.user(Role.CENTRE_REVIEWER)
    institution = institution_for(school, created_by=staff, occupations=(("6-18-02-04", *levels),))
    row = institution.occupations.select_related("occupation", "application").get()
    major = Major.objects.create(school=school, code=MAJOR_CODE, name="焊接技术与自动化", training_level=training_level)
    applied = AppliedOccupation.objects.create(
        application=row.application,
        occupation=row.occupation,
        lowest_level=row.lowest_level,
        highest_level=row.highest_level,
        basis=row.basis,
    )
    applied.majors.add(major)
    ExpertPanel.objects.create(
        application=row.application,
        formed_by=centre,
        conclusion=PanelConclusion.PASS if panel_passed else PanelConclusion.FAIL,
    )
    site = AssessmentSite.objects.create(
        application=row.application, institution=institution, name="实训楼考核站点", address="实训楼3层"
    )
    ExamRoom.objects.create(site=site, name="301", capacity=30, av_monitoring=True)
    plan = make_plan(institution, row, site, staff, level=level)
    return Batch(school, staff, centre, institution, row, applied, major, site, plan)
