"""Test data builders. Names and ID numbers are invented; ID numbers pass GB 11643."""

from __future__ import annotations

import datetime as dt
import itertools

from portal.models import District, Organisation, OrganisationKind, Role, User, UserRole
from portal.validators import id_number_check_char, make_uscc
from schools.models import Major, School, SchoolType, Student, TrainingLevel

_seq = itertools.count(1)

KIND_FOR_ROLE = {
    Role.SCHOOL_STAFF: OrganisationKind.SCHOOL,
    Role.CENTRE_REVIEWER: OrganisationKind.CENTRE,
    Role.SYSTEM_ADMIN: OrganisationKind.CENTRE,
    Role.COMMISSION_OFFICER: OrganisationKind.COMMISSION,
    Role.COMMISSION_DEPT_OFFICER: OrganisationKind.COMMISSION_DEPT,
    Role.MUNICIPAL_HR_OFFICER: OrganisationKind.MUNICIPAL_HR,
    Role.DISTRICT_HR_OFFICER: OrganisationKind.DISTRICT_HR,
    Role.EXPERT: OrganisationKind.EXPERT_POOL,
    Role.QUALITY_SUPERVISOR: OrganisationKind.EXPERT_POOL,
}


def district(code: str = "310115") -> District:
    return District.objects.get(code=code)


def organisation(kind: str, *, name: str | None = None, district_code: str | None = None) -> Organisation:
    n = next(_seq)
    needs_district = kind in {OrganisationKind.SCHOOL, OrganisationKind.DISTRICT_HR}
    return Organisation.objects.create(
        kind=kind,
        name=name or f"测试机构{n}（{kind}）",
        district=district(district_code or "310115") if needs_district or district_code else None,
    )


def user(
    role: str,
    *,
    organisation: Organisation | None = None,
    username: str | None = None,
    password: str = "test-pass-2026",
    email: str = "",
) -> User:
    org = organisation or globals()["organisation"](KIND_FOR_ROLE[role])
    u = User.objects.create_user(
        username=username or f"{role}-{next(_seq)}",
        password=password,
        organisation=org,
        email=email,
        full_name=f"测试{role}",
    )
    UserRole.objects.create(user=u, role=role)
    return u


def uscc(n: int) -> str:
    """Passes GB 32100 and, in characters 9–17, GB 11714."""
    return make_uscc("12310000", f"{50000000 + n:08d}")


def id_number(n: int, district_code: str = "310115", birth: dt.date = dt.date(2006, 5, 17)) -> str:
    first17 = f"{district_code}{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def school(
    *,
    school_type: str = SchoolType.INDEPENDENT_HIGHER,
    district_code: str = "310115",
    through: bool = False,
    name: str | None = None,
) -> School:
    n = next(_seq)
    org = organisation(OrganisationKind.SCHOOL, name=name or f"测试职业学院{n}", district_code=district_code)
    created = School.objects.create(organisation=org, school_type=school_type, uscc=uscc(n))
    if through:
        # ``has_through_programme`` follows the majors: one through-programme major (tests build it directly).
        level = TrainingLevel.SECONDARY if school_type == SchoolType.SECONDARY else TrainingLevel.HIGHER
        major(created, code=f"70{n:04d}", name="计算机应用（贯通）", level=level, through=True)
    return created


def major(
    school_obj: School,
    *,
    code: str | None = None,
    name: str = "机电一体化技术",
    level: str = TrainingLevel.HIGHER,
    through: bool = False,
) -> Major:
    return Major.objects.create(
        school=school_obj,
        code=code or f"46{next(_seq):04d}",
        name=name,
        training_level=level,
        is_through_programme=through,
    )


def student(major_obj: Major, *, n: int | None = None, graduation: dt.date = dt.date(2027, 6, 30)) -> Student:
    n = n if n is not None else next(_seq)
    return Student.objects.create(
        school=major_obj.school,
        major=major_obj,
        student_number=f"S{n:06d}",
        name=f"学生{n}",
        id_number=id_number(n),
        enrolment_year=graduation.year - 3,
        expected_graduation=graduation,
    )
