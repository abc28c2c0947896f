"""City-scale schools, majors and graduating-year students for ``seed_scale`` (bulk insert, no history)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import make_password

from portal.models import District, Organisation, OrganisationKind, Role, User, UserRole
from portal.scale import SCALE_EMAIL_DOMAIN, ScaleContext
from portal.validators import id_number_check_char, make_uscc
from schools.models import (
    Major,
    School,
    SchoolType,
    Student,
    ThroughStage,
    TrainingLevel,
    academic_year_of,
)

WORDS = (
    "东海 浦江 申城 春申 松江 明远 弘毅 致远 启航 精工 华亭 海湾 临港 滴水 清源 长风 瑞金 新华 育才 兴业 "
    "卓越 鼎新 求实 崇德 博雅 匠心 天翼 海鸥 飞虹 锦绣 长宁 金桥 银杏 枫林 紫荆 云帆 晨光 远航 同心 振华"
).split()

# (type, share of the schools, name ending, training level, years of study, age at enrolment)
TYPES = (
    (SchoolType.SECONDARY, 0.40, "职业学校", TrainingLevel.SECONDARY, 3, 15),
    (SchoolType.INDEPENDENT_HIGHER, 0.35, "职业技术学院", TrainingLevel.HIGHER, 3, 18),
    (SchoolType.UNDERGRADUATE_HIGHER, 0.15, "大学高等职业技术学院", TrainingLevel.HIGHER, 3, 18),
    (SchoolType.VOCATIONAL_UNDERGRADUATE, 0.10, "职业技术大学", TrainingLevel.UNDERGRADUATE, 4, 18),
)

MAJOR_NAMES = (
    "数控技术 机电一体化技术 工业机器人技术 电气自动化技术 新能源汽车技术 汽车检测与维修 计算机应用技术 "
    "计算机网络技术 软件技术 大数据技术 人工智能技术应用 云计算技术应用 电子商务 物流管理 会计 市场营销 "
    "烹饪工艺与营养 酒店管理 旅游管理 建筑工程技术 工程造价 智能焊接技术 模具设计与制造 应用电子技术 "
    "护理 药学 美容美体艺术 服装设计与工艺 数字媒体技术 动漫制作技术 城市轨道交通运营管理 航空服务 "
    "港口物流管理 现代纺织技术 食品检验检测技术 环境工程技术"
).split()
LEVEL_CODE_PREFIX = {TrainingLevel.SECONDARY: "7", TrainingLevel.HIGHER: "4", TrainingLevel.UNDERGRADUATE: "2"}
STUDENT_BATCH = 5000


def _type_for(index: int, count: int):
    """Types in their shares, spread over the districts (index runs over the schools)."""
    position = (index + 0.5) / count
    edge = 0.0
    for row in TYPES:
        edge += row[1]
        if position < edge:
            return row
    return TYPES[-1]


def scale_uscc(batch: int, index: int) -> str:
    return make_uscc("12310000", f"{80000000 + batch * 10000 + index:08d}")


def scale_id_number(district_code: str, birth: dt.date, sequence: int) -> str:
    first17 = f"{district_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_number_check_char(first17)


def build(ctx: ScaleContext) -> None:
    districts = list(District.objects.order_by("code"))
    taken = set(Organisation.objects.values_list("name", flat=True))
    n = ctx.size.schools
    orgs, plans = [], []
    for i in range(n):
        district = districts[i % len(districts)]
        school_type, _share, ending, level, years, age = _type_for(i, n)
        word = WORDS[(i * 7 + ctx.batch * 3) % len(WORDS)]
        name, k = f"上海市{district.name}{word}{ending}", 1
        while name in taken:
            k += 1
            name = f"上海市{district.name}{word}第{k}{ending}"
        taken.add(name)
        orgs.append(Organisation(kind=OrganisationKind.SCHOOL, name=name, district=district))
        plans.append((district, school_type, level, years, age))
    Organisation.objects.bulk_create(orgs)
    names = [o.name for o in orgs]
    by_name = {o.name: o for o in Organisation.objects.filter(name__in=names).select_related("district")}
    schools = []
    for i, (name, (district, school_type, _level, _years, _age)) in enumerate(zip(names, plans, strict=True)):
        schools.append(
            School(
                organisation=by_name[name],
                school_type=school_type,
                uscc=scale_uscc(ctx.batch, i),
                address=f"上海市{district.name}{WORDS[i % len(WORDS)]}路{100 + i}号",
                contact_name=ctx.person_name(),
                contact_phone=f"021-5{ctx.batch % 10}{i:06d}",
            )
        )
    School.objects.bulk_create(schools)
    schools = list(School.objects.filter(uscc__in=[s.uscc for s in schools]).select_related("organisation__district"))
    schools.sort(key=lambda s: s.uscc)
    ctx.note("schools", len(schools))
    hashed = make_password(None)
    staff = [
        User(
            username=f"scale{ctx.batch}-school-{i + 1}",
            organisation=school.organisation,
            full_name=ctx.person_name(),
            email=f"scale{ctx.batch}-school-{i + 1}@{SCALE_EMAIL_DOMAIN}",
            password=hashed,
        )
        for i, school in enumerate(schools)
    ]
    User.objects.bulk_create(staff)
    staff = list(User.objects.filter(username__startswith=f"scale{ctx.batch}-school-"))
    UserRole.objects.bulk_create([UserRole(user=u, role=Role.SCHOOL_STAFF) for u in staff])
    ctx.built["school_staff"] = {u.organisation_id: u for u in staff}

    majors = []
    for i, school in enumerate(schools):
        level = _type_for(i, n)[3]
        names = ctx.rng.sample(MAJOR_NAMES, min(ctx.size.majors_per_school, len(MAJOR_NAMES)))
        for m in range(ctx.size.majors_per_school):
            base = names[m % len(names)]
            name = base if m < len(names) else f"{base}（{m // len(names) + 1}）"
            majors.append(
                Major(
                    school=school,
                    code=f"{LEVEL_CODE_PREFIX[level]}{(MAJOR_NAMES.index(base) + 1) * 100 + m // len(names):05d}",
                    name=name,
                    training_level=level,
                    # Four in five secondary schools run through-programmes (has_through_programme follows).
                    is_through_programme=school.school_type == SchoolType.SECONDARY and i % 5 != 0 and m % 4 == 0,
                )
            )
    Major.objects.bulk_create(majors, batch_size=2000)
    majors_by_school: dict[int, list[Major]] = {}
    for major in Major.objects.filter(school__in=schools).order_by("school_id", "code"):
        majors_by_school.setdefault(major.school_id, []).append(major)
    ctx.note("majors", len(majors))

    start = academic_year_of(ctx.today)
    graduation = dt.date(start + 1, 6, 30)
    per_district: dict[str, int] = {}
    buffer: list[Student] = []
    created = 0
    for i, school in enumerate(schools):
        _type, _share, _ending, level, years, age = _type_for(i, n)
        enrolment = start + 1 - years
        district_code = school.organisation.district.code
        school_majors = majors_by_school[school.pk]
        for k in range(ctx.size.students_per_school):
            major = school_majors[k % len(school_majors)]
            c = per_district.get(district_code, 0)
            per_district[district_code] = c + 1
            # A distinct (birth date, sequence) per district and batch; 900–999 are left to seed_demo.
            birth = dt.date(enrolment - age, 1, 1) + dt.timedelta(days=c % 365)
            sequence = 100 + ((ctx.batch - 1) * 40 + c // 365) % 800
            stage = ""
            if major.is_through_programme:
                stage = ThroughStage.SECONDARY if level == TrainingLevel.SECONDARY else ThroughStage.HIGHER
            buffer.append(
                Student(
                    school=school,
                    student_number=f"{enrolment}{k + 1:06d}",
                    name=ctx.person_name(),
                    id_number=scale_id_number(district_code, birth, sequence),
                    major=major,
                    enrolment_year=enrolment,
                    expected_graduation=graduation,
                    through_stage=stage,
                )
            )
            if len(buffer) >= STUDENT_BATCH:
                Student.objects.bulk_create(buffer)
                created += len(buffer)
                buffer = []
    if buffer:
        Student.objects.bulk_create(buffer)
        created += len(buffer)
    ctx.note("students", created)
    ctx.built["schools"] = schools
    ctx.built["majors_by_school"] = majors_by_school
