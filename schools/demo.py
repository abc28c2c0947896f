"""Demo schools of all four types across several districts, with majors, students and logins."""

from __future__ import annotations

import datetime as dt

from simple_history.utils import bulk_create_with_history

from portal.demo import DemoContext
from portal.models import District, OrganisationKind, Role
from portal.services import record
from portal.validators import id_number_check_char, make_uscc
from schools.models import Major, School, SchoolType, Student, ThroughStage, TrainingLevel

# (login slug, name, type, district code, through-programme, majors). Majors carry their code, name and level
# in 职业教育专业目录（2021年） (fixtures/majors.json); institutions/demo.py links each occupation only to
# the majors that correspond to it (portal.selectors.major_corresponds).
SCHOOLS = [
    (
        "mingde",
        "上海明德职业技术大学",
        SchoolType.VOCATIONAL_UNDERGRADUATE,
        "310115",
        False,
        [
            ("260102", "智能制造工程技术", TrainingLevel.UNDERGRADUATE, False),
            ("310209", "人工智能工程技术", TrainingLevel.UNDERGRADUATE, False),
            ("460305", "工业机器人技术", TrainingLevel.HIGHER, False),
        ],
    ),
    (
        "huichuan",
        "上海汇川工程职业学院",
        SchoolType.INDEPENDENT_HIGHER,
        "310112",
        False,
        [
            ("460104", "机械制造及自动化", TrainingLevel.HIGHER, False),
            ("460301", "机电一体化技术", TrainingLevel.HIGHER, False),
            ("460702", "新能源汽车技术", TrainingLevel.HIGHER, True),
            ("510201", "计算机应用技术", TrainingLevel.HIGHER, False),
        ],
    ),
    (
        "shenyuan",
        "上海申远科技职业学院",
        SchoolType.INDEPENDENT_HIGHER,
        "310114",
        False,
        [
            ("510205", "大数据技术", TrainingLevel.HIGHER, False),
            ("530701", "电子商务", TrainingLevel.HIGHER, False),
            ("440301", "建筑工程技术", TrainingLevel.HIGHER, False),
        ],
    ),
    (
        "huguang",
        "上海沪光大学高等职业技术学院",
        SchoolType.UNDERGRADUATE_HIGHER,
        "310110",
        False,
        [
            ("460103", "数控技术", TrainingLevel.HIGHER, False),
            ("540202", "烹饪工艺与营养", TrainingLevel.HIGHER, False),
            ("510103", "应用电子技术", TrainingLevel.HIGHER, False),
        ],
    ),
    (
        "binjiang",
        "上海滨江大学职业技术学院",
        SchoolType.UNDERGRADUATE_HIGHER,
        "310104",
        False,
        [
            ("510202", "计算机网络技术", TrainingLevel.HIGHER, False),
            ("520802", "美容美体艺术", TrainingLevel.HIGHER, False),
        ],
    ),
    (
        "qinghe",
        "上海市青禾职业学校",
        SchoolType.SECONDARY,
        "310106",
        True,
        [
            ("710201", "计算机应用", TrainingLevel.SECONDARY, True),
            ("740201", "中餐烹饪", TrainingLevel.SECONDARY, False),
            ("730701", "电子商务", TrainingLevel.SECONDARY, False),
        ],
    ),
    (
        "songyun",
        "上海市松云航运职业学校",
        SchoolType.SECONDARY,
        "310117",
        True,
        [
            ("660301", "机电技术应用", TrainingLevel.SECONDARY, True),
            ("700206", "汽车运用与维修", TrainingLevel.SECONDARY, True),
        ],
    ),
    (
        "baolin",
        "上海市宝麟工业技术学校",
        SchoolType.SECONDARY,
        "310113",
        False,
        [
            ("660103", "数控技术应用", TrainingLevel.SECONDARY, False),
            ("660104", "焊接技术应用", TrainingLevel.SECONDARY, False),
        ],
    ),
    (
        "jiahe",
        "上海市嘉禾商贸职业学校",
        SchoolType.SECONDARY,
        "310120",
        True,
        [
            ("730701", "电子商务", TrainingLevel.SECONDARY, True),
            ("730702", "直播电商服务", TrainingLevel.SECONDARY, False),
        ],
    ),
]

STUDENTS_PER_MAJOR = 24


def demo_uscc(index: int) -> str:
    """Passes GB 32100 and, in characters 9–17, GB 11714 (an invented organisation code)."""
    return make_uscc("12310000", f"{42500100 + index * 37:08d}")


def demo_id_number(ctx: DemoContext, district_code: str, birth: dt.date, used: set[str]) -> str:
    """A number that passes GB 11643 and is unique in this run (sequence 900–999, rarely issued)."""
    while True:
        first17 = f"{district_code}{birth:%Y%m%d}{ctx.rng.randrange(900, 1000):03d}"
        number = first17 + id_number_check_char(first17)
        if number not in used:
            used.add(number)
            return number
        birth += dt.timedelta(days=1)


def build(ctx: DemoContext) -> None:
    this_year = dt.date.today().year
    school_year_start = this_year if dt.date.today().month >= 9 else this_year - 1
    for index, (slug, name, school_type, district_code, _through, majors) in enumerate(SCHOOLS, start=1):
        district = District.objects.get(code=district_code)
        org = ctx.org(f"school_{slug}", kind=OrganisationKind.SCHOOL, name=name, district=district)
        school = School.objects.filter(organisation=org).first()
        if school is None:
            school = School(
                organisation=org,
                school_type=school_type,
                uscc=demo_uscc(index),
                address=f"上海市{district.name}示范路{index * 10}号",
                contact_name=ctx.person_name(),
                contact_phone=f"021-6{index:03d}{index * 7:04d}",
            )
            record(school, actor=None, reason="演示数据")
            school.save()
        ctx.user(f"school-{slug}", organisation=org, roles=[Role.SCHOOL_STAFF])
        for code, major_name, level, is_through in majors:
            major, created = Major.objects.get_or_create(
                school=school,
                code=code,
                defaults={"name": major_name, "training_level": level, "is_through_programme": is_through},
            )
            if created or not major.students.exists():
                _students(ctx, school, major, district_code, school_year_start)


def _students(ctx: DemoContext, school: School, major: Major, district_code: str, year_start: int) -> None:
    students = []
    used = set(Student.objects.filter(school=school).values_list("id_number", flat=True))
    prefix = major.code
    for n in range(STUDENTS_PER_MAJOR):
        # Two cohorts: graduating this school year, and one year behind.
        graduating = n % 3 != 2
        duration = 3
        enrolment = year_start + 1 - duration if graduating else year_start + 2 - duration
        graduation = dt.date(enrolment + duration, 6, 30)
        stage = ""
        if major.is_through_programme:
            stage = ThroughStage.SECONDARY if major.training_level == TrainingLevel.SECONDARY else ThroughStage.HIGHER
        birth = dt.date(
            enrolment - (15 if major.training_level == TrainingLevel.SECONDARY else 18),
            ctx.rng.randint(1, 12),
            ctx.rng.randint(1, 28),
        )
        students.append(
            Student(
                school=school,
                student_number=f"{enrolment}{prefix}{n + 1:03d}",
                name=ctx.person_name(),
                id_number=demo_id_number(ctx, district_code, birth, used),
                major=major,
                enrolment_year=enrolment,
                expected_graduation=graduation,
                through_stage=stage,
            )
        )
    bulk_create_with_history(students, Student, default_change_reason="演示数据")
