"""Demo batches at every stage, made through the services (issue 8, item 12).

One institution (上海明德职业技术大学, filed by institutions.demo) runs ten batches of the same
occupation: a draft plan, a filed one, a returned one, an accepted one still ahead, one in
progress today, one whose results are due within days, one overdue, and results filed, returned
and accepted. Two steps are not service calls, because a newcomer cannot wait weeks: the
institution's filing is moved back four months, and a batch that "already happened" is planned
ahead through the services and then moved back in time (recorded in its history as demo data).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from assessments import services
from assessments.models import (
    AssessmentMethod,
    Attendance,
    BatchRoom,
    Duty,
    EvaluationPlan,
    RoomPart,
    SupervisionAssignment,
)
from assessments.services import candidates as candidate_services
from assessments.services import clock, results, staffing, supervision
from institutions.models import Institution
from portal.demo import DemoContext
from portal.models import Notification, Role
from portal.services import record
from portal.working_days import WorkCalendar
from schools.models import Level, Student, graduating_year_bounds

PER_BATCH = 6  # candidates per batch: theory 2 invigilators, practical 3 examiners (the common rules)
# stage -> (level, calendar days ahead for a batch to come; working days ago for one held)
STAGES = {
    "draft": (Level.LEVEL_4, 24),
    "filed": (Level.LEVEL_4, 26),
    "returned": (Level.LEVEL_4, 28),
    "accepted": (Level.LEVEL_4, 30),
    "in_progress": (Level.LEVEL_4, 1),  # yesterday to tomorrow
    "due_soon": (Level.LEVEL_3, 3),  # due in 2 working days: today's reminder
    "overdue": (Level.LEVEL_3, 10),
    "results_filed": (Level.LEVEL_3, 2),
    "results_returned": (Level.LEVEL_3, 4),
    "results_accepted": (Level.LEVEL_3, 5),  # filed on its due day
}
HELD = {"in_progress", "due_soon", "overdue", "results_filed", "results_returned", "results_accepted"}


def build(ctx: DemoContext) -> None:
    institution = Institution.objects.filter(school__organisation=ctx.organisations.get("school_mingde")).first()
    if institution is None:
        return
    users = ctx.users
    org = institution.school.organisation
    # The teachers on the batches' staff: their logins are listed on every run.
    teachers = [ctx.user(f"mingde-teacher-{n}", organisation=org, roles=[Role.SCHOOL_STAFF]) for n in range(1, 7)]
    if EvaluationPlan.objects.exists():
        return  # already built; seed_demo may run again
    staff = users["school-mingde"]
    centre = users["centre-reviewer"]
    invited = users["expert-4"]
    _move_filing_back(institution, days=120)
    row = institution.occupations.get(occupation__code="6-31-01-03")
    site = institution.sites.first()
    theory_room = site.rooms.get(name__contains="理论")
    practical_room = site.rooms.get(name__contains="实操")
    pool = _candidates_pool(institution, row)
    used: dict[int, int] = {}
    plans = {}
    for n, (stage, (level, offset)) in enumerate(STAGES.items()):
        first = timezone.localdate() + dt.timedelta(days=offset if stage not in HELD else 6 + n)
        starts = timezone.make_aware(dt.datetime.combine(first, dt.time(8, 30)))
        last = first + dt.timedelta(days=2 if stage == "in_progress" else 0)
        ends = timezone.make_aware(dt.datetime.combine(last, dt.time(17, 0)))
        plan = services.plan_create(
            institution=institution,
            actor=staff,
            occupation=row,
            level=level,
            site=site,
            method=AssessmentMethod.RESULT,
            starts_at=starts,
            ends_at=ends,
            theory_by_course_score=stage == "results_accepted",
        )
        theory = staffing.room_add(
            plan=plan,
            actor=staff,
            room=theory_room,
            part=RoomPart.THEORY,
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            candidates_expected=PER_BATCH,
        )
        practical = staffing.room_add(
            plan=plan,
            actor=staff,
            room=practical_room,
            part=RoomPart.PRACTICAL,
            starts_at=starts + dt.timedelta(hours=4),
            ends_at=ends,
            candidates_expected=PER_BATCH,
        )
        for person in teachers[:2]:
            staffing.staff_add(plan=plan, actor=staff, person=person, duty=Duty.INVIGILATOR, room=theory)
        for person in (teachers[2], teachers[3], invited):
            staffing.staff_add(plan=plan, actor=staff, person=person, duty=Duty.EXAMINER, room=practical)
        staffing.staff_add(plan=plan, actor=staff, person=teachers[4], duty=Duty.INTERNAL_SUPERVISOR)
        taken = used.setdefault(level, 0)
        chosen = pool[level][taken : taken + PER_BATCH]
        used[level] = taken + PER_BATCH
        candidate_services.candidates_add(plan=plan, actor=staff, students=chosen)
        plans[stage] = plan
        if stage == "draft":
            continue
        plan = services.plan_submit(plan=plan, actor=staff)
        if stage == "filed":
            continue
        if stage == "returned":
            services.plan_return(plan=plan, actor=centre, comment="实操考场考评人员名单请补充外聘人员的职业资格信息。")
            continue
        plan = services.plan_accept(plan=plan, actor=centre, comment="同意备案。")
        if stage == "accepted":
            continue
        _move_back(plan, first=_held_on(stage, offset))
        plan.refresh_from_db()
        _hold(ctx, plan, stage, staff, centre, teachers[4], users)
    # The steps above are history for everyone but the next actor: leave only what today's jobs send unread.
    Notification.objects.filter(read_at__isnull=True).update(read_at=timezone.now())
    clock.results_deadlines_run(today=timezone.localdate())


def _held_on(stage: str, working_days_ago: int) -> dt.date:
    today = timezone.localdate()
    if stage == "in_progress":
        return today - dt.timedelta(days=1)
    calendar = WorkCalendar()
    day, left = today, working_days_ago
    while left:
        day -= dt.timedelta(days=1)
        left -= calendar.is_workday(day)
    return day


def _candidates_pool(institution: Institution, row) -> dict[int, list[Student]]:
    """Graduating-year students of the majors that passed evaluation for this occupation, per level."""
    start, end = graduating_year_bounds(timezone.localdate())
    students = Student.objects.filter(
        school=institution.school, expected_graduation__gte=start, expected_graduation__lte=end
    ).select_related("major")
    pool: dict[int, list[Student]] = {Level.LEVEL_4: [], Level.LEVEL_3: []}
    on = timezone.localdate()
    for student in students:
        for level in pool:
            plan = EvaluationPlan(institution=institution, occupation=row, level=level, site=institution.sites.first())
            plan.starts_at = timezone.make_aware(dt.datetime.combine(on + dt.timedelta(days=30), dt.time(9)))
            plan.ends_at = plan.starts_at + dt.timedelta(hours=8)
            if not candidate_services.candidate_problems(plan, student, on=on):
                pool[level].append(student)
    return pool


def _move_filing_back(institution: Institution, *, days: int) -> None:
    delta = dt.timedelta(days=days)
    reason = "演示数据：模拟四个月前备案，以便展示已举行的批次"
    for obj in (institution, *institution.occupations.all()):
        obj.confirmed_on -= delta
        obj.valid_until -= delta
        record(obj, actor=None, reason=reason)
        obj.save(update_fields=["confirmed_on", "valid_until"])


def _move_back(plan: EvaluationPlan, *, first: dt.date) -> None:
    """Planned ahead through the services, then moved to the day it 'was held'."""
    delta = timezone.make_aware(dt.datetime.combine(first, dt.time(8, 30))) - plan.starts_at
    plan.starts_at += delta
    plan.ends_at += delta
    record(plan, actor=None, reason="演示数据：批次日期前移，模拟已举行的评价")
    plan.save(update_fields=["starts_at", "ends_at"])
    for room in BatchRoom.objects.filter(plan=plan):
        room.starts_at += delta
        room.ends_at += delta
        record(room, actor=None, reason="演示数据：批次日期前移")
        room.save(update_fields=["starts_at", "ends_at"])
    clock.results_due_refresh(plan)


def _hold(ctx, plan, stage, staff, centre, internal, users) -> None:
    """What happened on and after the day: attendance, scores, supervision, results."""
    if stage == "in_progress":
        _supervise(plan, centre, users["supervisor"], staff, report=False)
        return
    candidates = list(plan.candidates.select_related("student").order_by("student__student_number"))
    entries = {}
    for i, c in enumerate(candidates):
        if i == len(candidates) - 1:
            entries[c.pk] = (Attendance.ABSENT, "")
        else:
            entries[c.pk] = (Attendance.PRESENT, "")
    results.attendance_record(plan=plan, actor=staff, entries=entries)
    results.internal_report_save(
        plan=plan, actor=internal, text="考务组织规范，考场音视频监控全程开启，未发现违规情况。"
    )
    if stage == "overdue":
        return
    typed = {}
    for i, c in enumerate(candidates[:-1]):
        theory = 58 + 7 * i if stage != "results_accepted" else None
        typed[c.pk] = {"theory": "" if theory is None else str(theory), "practical": str(66 + 5 * i)}
        if stage == "results_accepted":
            c.course_score = 70 + 4 * i
            c.save(update_fields=["course_score"])
    results.scores_save(plan=plan, actor=staff, typed=typed)
    if stage == "due_soon":
        return
    if stage in {"results_accepted", "results_returned"}:
        _supervise(plan, centre, users["supervisor"], staff, report=True)
    results.results_submit(plan=plan, actor=staff)
    if stage == "results_returned":
        results.results_return(plan=plan, actor=centre, comment="请核对第3名考生的实操成绩与评分记录表是否一致。")
    elif stage == "results_accepted":
        results.results_accept(plan=plan, actor=centre, comment="审核通过。")


def _supervise(plan, centre, supervisor_user, staff, *, report: bool) -> SupervisionAssignment:
    assignment = supervision.supervisor_assign(plan=plan, actor=centre, supervisor=supervisor_user)
    visited = min(plan.starts_at + dt.timedelta(hours=1, minutes=20), timezone.now())  # on the day
    supervision.visit_record(
        assignment=assignment,
        actor=supervisor_user,
        visited_at=visited,
        notes="抽查理论考场和实操考场，核验考生身份，查看音视频监控。",
    )
    finding = supervision.finding_add(
        assignment=assignment,
        actor=supervisor_user,
        kind="required_fix",
        description="实操考场评分记录表未由考评人员逐页签名，请整改。",
    )
    if report:
        supervision.fix_answer(finding=finding, actor=staff, answer="已组织考评人员补签评分记录表，并完善考务规程。")
        supervision.report_file(
            assignment=assignment, actor=supervisor_user, report="考务组织总体规范；评分记录签名问题已整改。"
        )
    return assignment
