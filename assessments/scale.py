"""A decade of batches for ``seed_scale`` (issue 10 §8): past graduating students, accepted batches
with their rooms, staff and results, and this school year's batches in progress.

On top of the city's schools (``schools.scale``: this year's graduating students) and institutions
(``institutions.scale``), for each of the last ``ScaleSize.years`` school years:

- the past years' graduating students of every school (as many per school as this year's);
- one batch (``EvaluationPlan``) per institution, directory occupation and school year, at the
  occupation's highest filed level, at one assessment site with a theory and a practical room, two
  invigilators, three examiners and an internal supervisor from the school's teachers (so that
  workload statistics have data; the staffing ratios of the standard are not met at ~125 candidates);
- every graduating student a candidate of one batch of its school (the major decides the occupation);
- past batches held in May, accepted, results accepted (theory and practical scores, outcome:
  about 95 % present, 79 % of them passed); this year's batches in spring (accepted, submitted or
  draft) and one in ten held this autumn with results open, submitted or overdue.

Rows are written by ``copy_rows``: PostgreSQL ``COPY`` through psycopg2, or plain INSERTs elsewhere
(tests use a small ``--factor``), with ids given here, no history rows and no signals. What later
parts need goes into ``ctx.built``: ``"passed"`` (candidate, plan, school year, name, ID number)
for ``certificates.scale``; ``"plans"`` and ``"teachers"`` for ``oversight.scale``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, models
from django.utils import timezone

from assessments.models import (
    AssessmentMethod,
    Attendance,
    BatchRoom,
    BatchStaff,
    Candidate,
    Duty,
    EvaluationPlan,
    Outcome,
    PlanStatus,
    ResultFiling,
    ResultStatus,
    RoomPart,
    Score,
)
from institutions.models import AssessmentSite, ExamRoom, Institution, InstitutionOccupation
from portal.models import Role, User, UserRole
from portal.scale import SCALE_EMAIL_DOMAIN, ScaleContext
from schools.models import Student, academic_year_of
from schools.scale import _type_for, scale_id_number

YEARS = 10  # school years of batches, this one included
TEACHERS_PER_SCHOOL = 15
CHUNK = 100_000


# --- Bulk writing ---------------------------------------------------------------------------


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def next_id(model: type[models.Model]) -> int:
    """The first free id of ``model``'s table (the seed runs alone in one transaction)."""
    agg = model.objects.aggregate(m=models.Max("pk"))["m"]
    return int(agg or 0) + 1


def copy_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Writes ``rows`` (tuples in ``columns`` order, ids included) into ``model``'s table.

    Columns the model has and ``columns`` omits get the field's Python default. PostgreSQL: COPY
    in chunks of 100,000 rows; otherwise executemany. Returns the number of rows."""
    fields = {f.column: f for f in model._meta.concrete_fields}
    missing = [c for c in fields if c not in columns]
    defaults = tuple(fields[c].get_default() for c in missing)
    all_columns = list(columns) + missing
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in all_columns)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg2 cursor
            buffer = io.StringIO()
            pending = 0

            def flush() -> None:
                buffer.seek(0)
                raw.copy_expert(f"COPY {table} ({quoted}) FROM STDIN", buffer)  # noqa: S608
                buffer.seek(0)
                buffer.truncate()

            for row in rows:
                buffer.write("\t".join(_copy_text(v) for v in (*row, *defaults)))
                buffer.write("\n")
                pending += 1
                count += 1
                if pending >= CHUNK:
                    flush()
                    pending = 0
            if pending:
                flush()
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{model._meta.db_table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        else:
            marks = ", ".join(["%s"] * len(all_columns))
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608
            batch: list[tuple] = []
            for row in rows:
                batch.append((*row, *defaults))
                count += 1
                if len(batch) >= 5000:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
    return count


# --- The decade -----------------------------------------------------------------------------


def _aware(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _teachers(ctx: ScaleContext, schools) -> dict[int, list[User]]:
    hashed = make_password(None)
    users = [
        User(
            username=f"scale{ctx.batch}-teacher-{school.pk}-{n}",
            organisation=school.organisation,
            full_name=ctx.person_name(),
            email=f"scale{ctx.batch}-teacher-{school.pk}-{n}@{SCALE_EMAIL_DOMAIN}",
            password=hashed,
        )
        for school in schools
        for n in range(1, TEACHERS_PER_SCHOOL + 1)
    ]
    User.objects.bulk_create(users, batch_size=2000)
    users = list(User.objects.filter(username__startswith=f"scale{ctx.batch}-teacher-").order_by("pk"))
    UserRole.objects.bulk_create([UserRole(user=u, role=Role.SCHOOL_STAFF) for u in users], batch_size=2000)
    by_org: dict[int, list[User]] = {}
    for u in users:
        by_org.setdefault(u.organisation_id, []).append(u)
    ctx.note("teachers", len(users))
    return {school.pk: by_org.get(school.organisation_id, []) for school in schools}


def _sites(ctx: ScaleContext, occupations: dict[int, list[InstitutionOccupation]], institutions) -> dict[int, tuple]:
    """One assessment site with a theory and a practical room per institution: (site, theory, practical)."""
    sites = []
    for inst in institutions:
        rows = occupations.get(inst.pk)
        if not rows:
            continue
        sites.append(
            AssessmentSite(
                application_id=rows[0].application_id,
                institution=inst,
                name=f"{inst.school.organisation.name}考核站点",
                address=inst.school.address,
            )
        )
    AssessmentSite.objects.bulk_create(sites, batch_size=2000)
    sites = list(AssessmentSite.objects.filter(institution__in=institutions).order_by("pk"))
    site_by_inst = {}
    for site in sites:
        site_by_inst.setdefault(site.institution_id, site)
    rooms = []
    for site in site_by_inst.values():
        rooms.append(ExamRoom(site=site, name="理论考场101", capacity=200, av_monitoring=True))
        rooms.append(ExamRoom(site=site, name="实训室A", capacity=200, av_monitoring=True))
    ExamRoom.objects.bulk_create(rooms, batch_size=2000)
    by_site: dict[int, list[ExamRoom]] = {}
    for room in ExamRoom.objects.filter(site__in=site_by_inst.values()).order_by("pk"):
        by_site.setdefault(room.site_id, []).append(room)
    ctx.note("assessment sites", len(site_by_inst))
    return {inst_id: (site, *by_site[site.pk][:2]) for inst_id, site in site_by_inst.items()}


def skip_deferred_checks() -> bool:
    """On PostgreSQL as a superuser: no foreign-key trigger events for the rest of the seed's
    transaction (``SET LOCAL session_replication_role = replica``). Django's foreign keys are
    checked at COMMIT, which for ten million copied rows took longer than copying them; the rows
    are consistent by construction, and the tests run the seed at a small factor with every
    constraint checked. Elsewhere nothing changes. Returns whether the checks are skipped."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if not (row and row[0]):
            return False
        cursor.execute("SET LOCAL session_replication_role = replica")
    return True


def build(ctx: ScaleContext) -> None:
    schools = ctx.built.get("schools") or []
    if not schools:
        return
    if skip_deferred_checks():
        ctx.log("    (foreign-key checks at commit skipped for the copied rows: session_replication_role = replica)")
    majors_by_school = ctx.built["majors_by_school"]
    centre = ctx.actor(Role.CENTRE_REVIEWER)
    years = getattr(ctx.size, "years", YEARS)
    current = academic_year_of(ctx.today)
    first_year = current - years + 1
    rng = ctx.rng
    n_schools = len(schools)

    institutions = list(
        Institution.objects.filter(school__in=schools).select_related("school__organisation").order_by("pk")
    )
    inst_by_school = {inst.school_id: inst for inst in institutions}
    occupations: dict[int, list[InstitutionOccupation]] = {}
    for io_row in (
        InstitutionOccupation.objects.filter(institution__in=institutions)
        .select_related("occupation")
        .order_by("institution_id", "pk")
    ):
        occupations.setdefault(io_row.institution_id, []).append(io_row)
    sites = _sites(ctx, occupations, institutions)
    teachers = _teachers(ctx, schools)
    staff_by_org = ctx.built.get("school_staff", {})

    # --- Past years' graduating students (this year's come from schools.scale) -------------
    student_id = next_id(Student)
    student_cols = (
        "id",
        "school_id",
        "student_number",
        "name",
        "id_type",
        "id_number",
        "major_id",
        "enrolment_year",
        "expected_graduation",
        "through_stage",
    )
    # (school index, school year) -> [(student id, major, name, id number)]
    cohorts: dict[tuple[int, int], list[tuple[int, object, str, str]]] = {}
    per_school = ctx.size.students_per_school

    def past_students():
        nonlocal student_id
        for i, school in enumerate(schools):
            _type, _share, _ending, _level, length, age = _type_for(i, n_schools)
            district = school.organisation.district.code
            school_majors = majors_by_school[school.pk]
            for year in range(first_year, current):
                enrolment = year + 1 - length
                graduation = dt.date(year + 1, 6, 30)
                cohort = cohorts.setdefault((i, year), [])
                for k in range(per_school):
                    major = school_majors[k % len(school_majors)]
                    birth = dt.date(enrolment - age, 1, 1) + dt.timedelta(days=k % 365)
                    sequence = ((ctx.batch - 1) * 7 + k // 365) % 100  # 000–099: this part's own range
                    name = ctx.person_name()
                    id_number = scale_id_number(district, birth, sequence)
                    cohort.append((student_id, major, name, id_number))
                    yield (
                        student_id,
                        school.pk,
                        f"{enrolment}{k + 1:06d}",
                        name,
                        "resident_id",
                        id_number,
                        major.pk,
                        enrolment,
                        graduation,
                        "",
                    )
                    student_id += 1

    ctx.note("past graduating students", copy_rows(Student, student_cols, past_students()))
    for i, school in enumerate(schools):
        cohort = cohorts.setdefault((i, current), [])
        majors = {m.pk: m for m in majors_by_school[school.pk]}
        for pk, major_id, name, id_number in (
            Student.objects.filter(school=school, expected_graduation=dt.date(current + 1, 6, 30))
            .order_by("pk")
            .values_list("pk", "major_id", "name", "id_number")
        ):
            cohort.append((pk, majors[major_id], name, id_number))

    # --- Batches ------------------------------------------------------------------------------
    plan_id = next_id(EvaluationPlan)
    plans: list[tuple] = []
    plan_info: dict[int, dict] = {}  # plan id -> what candidates, results and certificates need
    by_school_year_occupation: dict[tuple[int, int, int], int] = {}
    for i, school in enumerate(schools):
        inst = inst_by_school.get(school.pk)
        rows = occupations.get(inst.pk) if inst else None
        if not rows or inst.pk not in sites:
            continue
        site, _theory, _practical = sites[inst.pk]
        creator = staff_by_org.get(school.organisation_id) or teachers[school.pk][0]
        used = rows[: min(len(rows), len(majors_by_school[school.pk]))]  # as many as the majors fill
        for year in range(first_year, current + 1):
            for j, io_row in enumerate(used):
                n = plan_id
                if year < current:
                    day = dt.date(year + 1, 5, 6) + dt.timedelta(days=(i + j * 3) % 20)
                    status, results = PlanStatus.ACCEPTED, ResultStatus.ACCEPTED
                elif (i + j) % 10 == 0:  # held this autumn
                    day = ctx.today - dt.timedelta(days=5 + (i * 7 + j) % 40)
                    status = PlanStatus.ACCEPTED
                    results = (ResultStatus.OPEN, ResultStatus.SUBMITTED, ResultStatus.OPEN)[(i + j) % 3]
                else:
                    day = dt.date(year + 1, 4, 10) + dt.timedelta(days=(i + j * 3) % 40)
                    status = (PlanStatus.ACCEPTED, PlanStatus.ACCEPTED, PlanStatus.SUBMITTED, PlanStatus.DRAFT)[
                        (i + j) % 4
                    ]
                    results = None
                starts = _aware(day, 9)
                ends = _aware(day + dt.timedelta(days=1), 17)
                due = day + dt.timedelta(days=8)
                submitted = None if status == PlanStatus.DRAFT else starts - dt.timedelta(days=30)
                plans.append(
                    (
                        n,
                        inst.pk,
                        io_row.pk,
                        io_row.highest_level,
                        site.pk,
                        AssessmentMethod.RESULT,
                        starts,
                        ends,
                        status,
                        False,
                        due,
                        0 if status == PlanStatus.DRAFT else 1,
                        submitted,
                        creator.pk,
                        starts - dt.timedelta(days=45),
                    )
                )
                plan_info[n] = {
                    "year": year,
                    "school": i,
                    "institution": inst,
                    "occupation": io_row,
                    "level": io_row.highest_level,
                    "status": status,
                    "results": results,
                    "day": day,
                    "due": due,
                    "creator": creator,
                    "site": sites[inst.pk],
                }
                by_school_year_occupation[(i, year, j)] = n
                plan_id += 1
    copy_rows(
        EvaluationPlan,
        (
            "id",
            "institution_id",
            "occupation_id",
            "level",
            "site_id",
            "method",
            "starts_at",
            "ends_at",
            "status",
            "theory_by_course_score",
            "results_due_on",
            "round",
            "submitted_at",
            "created_by_id",
            "created_at",
        ),
        plans,
    )
    ctx.note("batches", len(plans))

    # --- Rooms and staff --------------------------------------------------------------------
    room_id = next_id(BatchRoom)
    rooms, staff = [], []
    for n, info in plan_info.items():
        _site, theory, practical = info["site"]
        day = info["day"]
        theory_id, practical_id = room_id, room_id + 1
        room_id += 2
        rooms.append((theory_id, n, theory.pk, RoomPart.THEORY, _aware(day, 9), _aware(day, 11), 150))
        rooms.append((practical_id, n, practical.pk, RoomPart.PRACTICAL, _aware(day, 13), _aware(day, 17), 150))
        pool = teachers[schools[info["school"]].pk]
        start = (n * 3) % len(pool)
        people = [pool[(start + k) % len(pool)] for k in range(6)]
        added = _aware(day - dt.timedelta(days=40), 10)
        by = info["creator"].pk
        staff += [
            (n, people[0].pk, Duty.INVIGILATOR, theory_id, False, by, added),
            (n, people[1].pk, Duty.INVIGILATOR, theory_id, False, by, added),
            (n, people[2].pk, Duty.EXAMINER, practical_id, False, by, added),
            (n, people[3].pk, Duty.EXAMINER, practical_id, False, by, added),
            (n, people[4].pk, Duty.EXAMINER, practical_id, True, by, added),
            (n, people[5].pk, Duty.INTERNAL_SUPERVISOR, None, False, by, added),
        ]
    copy_rows(BatchRoom, ("id", "plan_id", "room_id", "part", "starts_at", "ends_at", "candidates_expected"), rooms)
    staff_id = next_id(BatchStaff)
    copy_rows(
        BatchStaff,
        ("id", "plan_id", "person_id", "duty", "room_id", "invited", "added_by_id", "added_at"),
        ((staff_id + k, *row) for k, row in enumerate(staff)),
    )
    ctx.note("batch rooms", len(rooms))
    ctx.note("batch staff", len(staff))

    # --- Candidates, scores, outcomes -------------------------------------------------------
    candidate_id = next_id(Candidate)
    score_id = next_id(Score)
    passed: list[tuple] = []  # (candidate, plan, name, id number, student)
    scores: list[tuple] = []
    counts = {"present": 0, "passed": 0}

    def candidates():
        nonlocal candidate_id, score_id
        for (i, year), cohort in cohorts.items():
            inst = inst_by_school.get(schools[i].pk)
            rows = occupations.get(inst.pk) if inst else None
            if not rows:
                continue
            major_slot: dict[int, int] = {}
            for student_pk, major, name, id_number in cohort:
                j = major_slot.setdefault(
                    major.pk, len(major_slot) % min(len(rows), len(majors_by_school[schools[i].pk]))
                )
                n = by_school_year_occupation.get((i, year, j))
                if n is None:
                    continue
                info = plan_info[n]
                added = _aware(info["day"] - dt.timedelta(days=35), 10)
                attendance, outcome = Attendance.EXPECTED, Outcome.PENDING
                held = info["results"] is not None
                if held:
                    roll = rng.random()
                    if roll < 0.05:
                        attendance = Attendance.ABSENT
                        outcome = Outcome.ABSENT if info["results"] != ResultStatus.OPEN else Outcome.PENDING
                    else:
                        attendance = Attendance.PRESENT
                        theory = Decimal(rng.randint(56, 99))
                        practical = Decimal(rng.randint(58, 99)) if roll < 0.92 else Decimal(rng.randint(30, 59))
                        ok = theory >= 60 and practical >= 60
                        if info["results"] != ResultStatus.OPEN:
                            outcome = Outcome.PASSED if ok else Outcome.FAILED
                            entered = _aware(info["day"] + dt.timedelta(days=3), 15)
                            for part, value in (("theory", theory), ("practical", practical)):
                                scores.append((score_id, candidate_id, part, value, False, info["creator"].pk, entered))
                                score_id += 1
                        counts["present"] += 1
                        if outcome == Outcome.PASSED and info["results"] == ResultStatus.ACCEPTED:
                            counts["passed"] += 1
                            passed.append((candidate_id, n, name, id_number, student_pk))
                yield (
                    candidate_id,
                    n,
                    student_pk,
                    info["occupation"].occupation_id,
                    info["level"],
                    0,
                    info["creator"].pk,
                    added,
                    None,
                    attendance,
                    "",
                    outcome,
                )
                candidate_id += 1

    ctx.note(
        "candidates",
        copy_rows(
            Candidate,
            (
                "id",
                "plan_id",
                "student_id",
                "occupation_id",
                "level",
                "added_round",
                "added_by_id",
                "added_at",
                "course_score",
                "attendance",
                "attendance_reason",
                "outcome",
            ),
            candidates(),
        ),
    )
    ctx.note(
        "scores",
        copy_rows(Score, ("id", "candidate_id", "part", "value", "substituted", "entered_by_id", "entered_at"), scores),
    )
    scores.clear()

    # --- Result filings ---------------------------------------------------------------------
    filings = []
    filing_id = next_id(ResultFiling)
    for n, info in plan_info.items():
        status = info["results"]
        if status is None:
            continue
        day = info["day"]
        submitted = _aware(day + dt.timedelta(days=4), 16) if status != ResultStatus.OPEN else None
        accepted = _aware(day + dt.timedelta(days=7), 10) if status == ResultStatus.ACCEPTED else None
        overdue = (
            info["due"] + dt.timedelta(days=1) if status == ResultStatus.OPEN and info["due"] < ctx.today else None
        )
        filings.append(
            (
                filing_id,
                n,
                status,
                0 if status == ResultStatus.OPEN else 1,
                submitted,
                submitted,
                overdue,
                False,
                accepted,
                "考务组织规范，未发现异常。" if status != ResultStatus.OPEN else "",
                info["creator"].pk if status != ResultStatus.OPEN else None,
                submitted,
            )
        )
        filing_id += 1
    copy_rows(
        ResultFiling,
        (
            "id",
            "plan_id",
            "status",
            "round",
            "first_submitted_at",
            "submitted_at",
            "overdue_since",
            "late",
            "accepted_at",
            "internal_report",
            "internal_report_by_id",
            "internal_report_at",
        ),
        filings,
    )
    ctx.note("result filings", len(filings))
    ctx.built["passed"] = passed
    ctx.built["plan_info"] = plan_info
    ctx.built["teachers"] = teachers
    ctx.built["decade"] = (first_year, current)
    ctx.built["centre"] = centre
