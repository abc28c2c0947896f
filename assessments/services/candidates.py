"""Candidates of a batch (notice annex §1.2, §4.1; DOMAIN.md "Who may be a candidate").

The school's staff pick candidates from its graduating-year students (毕业学年) or import them from
Excel, while the plan may be changed. Every rule is checked for a whole list at once by
``CandidateChecker``: a fixed number of queries whatever the number of students (the plan's
corresponding majors, the openings to other schools, earlier candidacies and barrings of the
people named), then plain Python per student. A list with any refused student writes nothing.

The centre records the opening of an institution to another school's related majors
(``opening_record``, ``opening_end``), decided with the commission's functional department.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from assessments.models import (
    Attendance,
    BarredKind,
    Barring,
    Candidate,
    CandidateOpening,
    EvaluationPlan,
    Outcome,
    PlanStatus,
    ResultStatus,
)
from institutions.models import AppliedOccupation, Institution, OccupationJudgement, PanelConclusion
from institutions.services.workflow import is_school_staff_of
from portal.access import users_with_roles
from portal.i18n import stored
from portal.models import Role, User
from portal.services import notify, record
from portal.workflow import TransitionError
from schools.models import (
    LEVEL_CAP_BY_TRAINING_LEVEL,
    Level,
    School,
    Student,
    ThroughStage,
    TrainingLevel,
    academic_year_of,
    graduating_year_bounds,
)

WRITE_BATCH = 2000


# --- Who may change the list -------------------------------------------------------------


def may_edit_candidates(user, plan: EvaluationPlan) -> bool:
    """School staff of the plan's school, while the plan may be changed."""
    return plan.is_editable and is_school_staff_of(user, plan.institution.school)


def _check_editable(plan: EvaluationPlan, actor: User) -> None:
    if not is_school_staff_of(actor, plan.institution.school):
        raise PermissionDenied
    if not plan.is_editable:
        raise TransitionError(
            _("评价计划当前状态为“%(status)s”，不能修改考生名单（草稿、退回修改或变更中的计划才能修改）。")
            % {"status": plan.get_status_display()}
        )


def _locked(plan: EvaluationPlan) -> EvaluationPlan:
    return (
        EvaluationPlan.objects.select_for_update(of=("self",))
        .select_related("institution__school__organisation", "occupation__occupation")
        .get(pk=plan.pk)
    )


# --- Certificates (a later issue) --------------------------------------------------------


def certified_id_numbers_hook(*, id_numbers: Iterable[str], occupation_id: int, level: int) -> set[str]:
    """ID numbers already holding a certificate for this occupation and level.

    Certificates are issued by a later issue (the ``certificates`` app): until then a person
    counts as certified only through accepted results (``CandidateChecker``). That app replaces
    this hook's body with a query of its certificate records; it must stay one query.
    """
    return set()


# --- The rules ----------------------------------------------------------------------------


def who(student: Student) -> str:
    """How every message names the student: 学号 and 姓名."""
    return _("学号%(number)s %(name)s：") % {"number": student.student_number, "name": student.name}


def _programme(student: Student) -> tuple[str, str]:
    """The training level whose cap applies, and its label: the through-programme stage the
    student is in, else the major's approved training level."""
    if student.through_stage:
        return student.through_stage, str(ThroughStage(student.through_stage).label)
    return student.major.training_level, str(TrainingLevel(student.major.training_level).label)


@dataclass
class _Taken:
    plan_id: int
    student_id: int
    passed_and_accepted: bool
    open: bool


@dataclass
class CandidateChecker:
    """Every candidate rule of one batch, loaded once for a list of people.

    ``id_numbers`` is the people to look up (a list, or a queryset of ``id_number`` values for
    a whole school): their candidacies for this occupation and level, and their barrings.
    """

    plan: EvaluationPlan
    on: dt.date
    id_numbers: object
    major_ids: set[int] = field(default_factory=set)
    related_codes: set[str] = field(default_factory=set)
    unevaluated_major_ids: set[int] = field(default_factory=set)
    opened: dict[int, CandidateOpening] = field(default_factory=dict)
    taken: dict[str, list[_Taken]] = field(default_factory=dict)
    certified: dict[str, int | None] = field(default_factory=dict)
    barred: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, plan: EvaluationPlan, *, on: dt.date | None = None, id_numbers=()) -> CandidateChecker:
        checker = cls(plan=plan, on=on or timezone.localdate(plan.starts_at), id_numbers=id_numbers)
        checker._load_majors()
        checker.opened = {
            o.school_id: o
            for o in open_openings(institution_id=plan.institution_id, on=checker.on).select_related(
                "school__organisation"
            )
        }
        checker._load_people()
        return checker

    # Majors corresponding to the filed occupation, as its filing's panel evaluated them (专业评估论证).
    def _load_majors(self) -> None:
        row = self.plan.occupation
        applied = (
            AppliedOccupation.objects.filter(application_id=row.application_id, occupation_id=row.occupation_id)
            .select_related("application__panel")
            .prefetch_related("majors")
            .first()
        )
        if applied is None:
            return
        majors = list(applied.majors.all())
        self.major_ids = {m.pk for m in majors}
        self.related_codes = {m.code for m in majors}
        panel = getattr(applied.application, "panel", None)
        passed = panel is not None and panel.conclusion == PanelConclusion.PASS
        if passed:
            excluded = set(panel.members.filter(excluded=True).values_list("expert_id", flat=True))
            unsound = OccupationJudgement.objects.filter(panel=panel, applied=applied, sound=False).exclude(
                expert_id__in=excluded
            )
            passed = not unsound.exists()
        if not passed:
            self.unevaluated_major_ids = set(self.major_ids)

    def _load_people(self) -> None:
        plan = self.plan
        rows = (
            Candidate.objects.filter(
                occupation_id=plan.occupation.occupation_id, level=plan.level, student__id_number__in=self.id_numbers
            )
            .exclude(plan__status=PlanStatus.WITHDRAWN)
            .values_list("plan_id", "student_id", "student__id_number", "outcome", "plan__results__status")
        )
        for plan_id, student_id, id_number, outcome, results_status in rows:
            accepted = results_status == ResultStatus.ACCEPTED
            passed = accepted and outcome == Outcome.PASSED
            self.taken.setdefault(id_number, []).append(
                _Taken(plan_id=plan_id, student_id=student_id, passed_and_accepted=passed, open=not accepted)
            )
            if passed:
                self.certified[id_number] = plan_id
        for id_number in certified_id_numbers_hook(
            id_numbers=self.id_numbers, occupation_id=plan.occupation.occupation_id, level=plan.level
        ):
            self.certified.setdefault(id_number, None)
        barrings = (
            Barring.objects.filter(kind=BarredKind.CANDIDATE, id_number__in=self.id_numbers, starts_on__lte=self.on)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=self.on))
            .values("id_number", "starts_on", "ends_on")
        )
        for b in barrings:
            self.barred.setdefault(b["id_number"], b)

    # One student: every rule, in the order a school reads them.
    def _fine(self, student) -> bool:
        """True when the student breaks no rule: the same rules as ``problems`` without building
        any message, so a list of 10,000 good students is checked in a few milliseconds."""
        plan = self.plan
        own = student.school_id == plan.institution.school_id
        if not own and student.school_id not in self.opened:
            return False
        first, last = self._bounds
        if not first <= student.expected_graduation <= last:
            return False
        if plan.level < LEVEL_CAP_BY_TRAINING_LEVEL.get(
            student.through_stage or student.major.training_level, Level.LEVEL_3
        ):
            return False
        if not self._in_range:
            return False
        if own:
            if student.major_id not in self.major_ids or student.major_id in self.unevaluated_major_ids:
                return False
        elif student.major.code not in self.related_codes:
            return False
        if student.major.is_through_programme or student.through_stage:
            if student.stage_completed_on is None or student.stage_completed_on > self.on:
                return False
        key = student.id_number
        return key not in self.taken and key not in self.certified and key not in self.barred

    @property
    def _bounds(self) -> tuple[dt.date, dt.date]:
        bounds = self.__dict__.get("_bounds_cache")
        if bounds is None:
            bounds = self.__dict__["_bounds_cache"] = graduating_year_bounds(self.on)
        return bounds

    @property
    def _in_range(self) -> bool:
        row = self.plan.occupation
        return row.lowest_level >= self.plan.level >= row.highest_level

    def problems(self, student: Student) -> list[tuple[str, str]]:
        """(column key, message) for each rule the student breaks; the key is ``student_number``
        or ``id_number`` (the import names the column)."""
        if self._fine(student):
            return []
        plan, out = self.plan, []
        name = who(student)
        occupation = f"「{plan.occupation.occupation}」"
        own = student.school_id == plan.institution.school_id
        opening = self.opened.get(student.school_id)
        first, last = graduating_year_bounds(self.on)
        if not own and opening is None:
            out.append(
                (
                    "student_number",
                    name
                    + _(
                        "不是本校学生。本机构只评价本校毕业学年学生；外校学生须待市职鉴中心会同市教委相关职能部门"
                        "决定本机构面向其学校开放后，才能参加（仅限相关专业）。"
                    ),
                )
            )
            return out
        if academic_year_of(student.expected_graduation) != academic_year_of(self.on):
            out.append(
                (
                    "student_number",
                    name
                    + _("不是毕业学年学生：预计%(grad)s毕业，本批次（%(day)s）的毕业学年为%(first)s至%(last)s。")
                    % {
                        "grad": student.expected_graduation.isoformat(),
                        "day": self.on.isoformat(),
                        "first": first.isoformat(),
                        "last": last.isoformat(),
                    },
                )
            )
        programme, programme_label = _programme(student)
        cap = LEVEL_CAP_BY_TRAINING_LEVEL.get(programme, Level.LEVEL_3)
        if plan.level < cap:
            out.append(
                (
                    "student_number",
                    name
                    + _("本批次等级%(level)s高于该生培养层次（%(programme)s）可参加的最高等级%(cap)s。")
                    % {
                        "level": Level(plan.level).label,
                        "programme": programme_label,
                        "cap": Level(cap).label,
                    },
                )
            )
        row = plan.occupation
        if not row.lowest_level >= plan.level >= row.highest_level:
            out.append(
                (
                    "student_number",
                    name
                    + _("本批次等级%(level)s超出%(o)s备案的等级范围%(range)s。")
                    % {"level": Level(plan.level).label, "o": occupation, "range": row.level_range},
                )
            )
        major = f"{student.major.code} {student.major.name}"
        if own:
            corresponds = student.major_id in self.major_ids
        else:
            corresponds = student.major.code in self.related_codes
        if not corresponds:
            out.append(
                (
                    "student_number",
                    name
                    + (
                        _("所学专业%(major)s不是%(o)s备案时的对应专业。")
                        if own
                        else _("所学专业%(major)s不是%(o)s的相关专业（外校学生仅限本机构备案的对应专业）。")
                    )
                    % {"major": major, "o": occupation},
                )
            )
        elif own and student.major_id in self.unevaluated_major_ids:
            out.append(
                (
                    "student_number",
                    name + _("所学专业%(major)s未通过%(o)s的专业评估论证。") % {"major": major, "o": occupation},
                )
            )
        if student.major.is_through_programme or student.through_stage:
            done = student.stage_completed_on
            if done is None or done > self.on:
                out.append(
                    (
                        "student_number",
                        name
                        + _(
                            "贯通培养学生须在本阶段教学计划完成后才能参加评价：本批次开始于%(start)s，"
                            "该生本阶段教学计划完成日期为%(done)s。"
                        )
                        % {"start": self.on.isoformat(), "done": done.isoformat() if done else _("（未登记）")},
                    )
                )
        for taken in self.taken.get(student.id_number, ()):
            if taken.plan_id == plan.pk:
                out.append(("student_number", name + _("已在本批次考生名单中。")))
            elif taken.open:
                out.append(
                    (
                        "student_number",
                        name
                        + _("已是评价计划#%(plan)s的考生（同一职业（工种）和等级，尚未结束），不能重复报名。")
                        % {"plan": taken.plan_id},
                    )
                )
        if student.id_number in self.certified:
            source = self.certified[student.id_number]
            out.append(
                (
                    "id_number",
                    name
                    + (
                        _("已通过%(o)s%(level)s的评价（评价计划#%(plan)s，结果已审核通过），不能重复参加。")
                        % {"o": occupation, "level": Level(plan.level).label, "plan": source}
                        if source
                        else _("已取得%(o)s%(level)s的职业技能等级证书，不能重复参加。")
                        % {"o": occupation, "level": Level(plan.level).label}
                    ),
                )
            )
        barring = self.barred.get(student.id_number)
        if barring:
            out.append(
                (
                    "id_number",
                    name
                    + _("自%(start)s起被禁止参加职业技能等级评价（%(end)s），本批次日期%(day)s在禁止期内。")
                    % {
                        "start": barring["starts_on"].isoformat(),
                        "end": _("至%(d)s") % {"d": barring["ends_on"].isoformat()}
                        if barring["ends_on"]
                        else _("未定截止日期"),
                        "day": self.on.isoformat(),
                    },
                )
            )
        return out


def open_openings(*, institution_id: int, on: dt.date):
    """Openings of an institution to other schools in force on ``on``: decided by then, not ended."""
    return CandidateOpening.objects.filter(institution_id=institution_id, decided_on__lte=on).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=on)
    )


def pickable_students(plan: EvaluationPlan):
    """The students a school picks from: its own graduating-year students, and those of schools
    the institution is opened to on the batch's first day whose major is related (same code as a
    major filed for the occupation). The rules are still checked on adding."""
    day = timezone.localdate(plan.starts_at)
    first, last = graduating_year_bounds(day)
    row = plan.occupation
    codes = AppliedOccupation.majors.through.objects.filter(
        appliedoccupation__application_id=row.application_id, appliedoccupation__occupation_id=row.occupation_id
    ).values("major__code")
    opened = open_openings(institution_id=plan.institution_id, on=day).values("school_id")
    scope = Q(school_id=plan.institution.school_id) | Q(school_id__in=opened, major__code__in=codes)
    return Student.objects.filter(scope, expected_graduation__gte=first, expected_graduation__lte=last)


def candidate_problems(plan: EvaluationPlan, student: Student, on: dt.date | None = None) -> list[str]:
    """Why ``student`` cannot be a candidate of ``plan`` (on ``on``, default the batch's first day)."""
    checker = CandidateChecker.load(plan, on=on, id_numbers=[student.id_number])
    return [message for _column, message in checker.problems(student)]


def list_problems(checker: CandidateChecker, students: Sequence[Student]) -> list[str]:
    """Every refusal of a list, each naming its student; the same person twice is refused too."""
    problems: list[str] = []
    seen: set[str] = set()
    for student in students:
        problems.extend(message for _column, message in checker.problems(student))
        if student.id_number in seen:
            problems.append(who(student) + _("在本次选择中重复出现。"))
        seen.add(student.id_number)
    return problems


# --- School: add and remove ---------------------------------------------------------------


def _write(plan: EvaluationPlan, actor: User, students: Sequence[Student], reason) -> list[Candidate]:
    """Create the candidacies (rules already checked inside the caller's transaction)."""
    occupation_id = plan.occupation.occupation_id
    rows = [
        Candidate(
            plan=plan,
            student_id=s.pk,
            occupation_id=occupation_id,
            level=plan.level,
            added_round=plan.round,
            added_by=actor,
        )
        for s in students
    ]
    return bulk_create_with_history(
        rows, Candidate, batch_size=WRITE_BATCH, default_user=actor, default_change_reason=reason
    )


def candidates_add(*, plan: EvaluationPlan, actor: User, students: Sequence[Student]) -> list[Candidate]:
    """Add students to the batch: all of them, or none with every refusal named."""
    if not students:
        raise ValidationError(_("请至少选择一名学生。"))
    with transaction.atomic():
        locked = _locked(plan)
        _check_editable(locked, actor)
        fetched = Student.objects.select_related("major").in_bulk([s.pk for s in students])
        students = sorted((fetched[s.pk] for s in students), key=lambda s: s.student_number)
        checker = CandidateChecker.load(locked, id_numbers=[s.id_number for s in students])
        problems = list_problems(checker, students)
        if problems:
            raise ValidationError(problems)
        created = _write(locked, actor, students, stored(gettext_lazy("加入考生名单")))
    return created


def candidates_import_write(
    *, plan: EvaluationPlan, actor: User, student_ids: Sequence[int], file_name: str = ""
) -> int:
    """Write an import already checked by ``assessments.candidate_import`` in the caller's
    transaction, with the plan row locked; returns how many candidacies were written.

    Ten thousand rows go in as two statements' worth of work: the candidacies by one
    ``executemany``, and their history rows (django-simple-history's table, same columns as
    ``bulk_create_with_history`` writes: type "+", the actor, the reason) copied from them by one
    ``INSERT … SELECT``. The ORM's per-object preparation cost three times the file reading.
    """
    if not student_ids:
        return 0
    reason = stored(gettext_lazy("Excel导入考生：%(file)s"), file=file_name)
    table, history = Candidate._meta.db_table, Candidate.history.model._meta.db_table
    q = connection.ops.quote_name
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({q('id')}) FROM {q(table)} WHERE {q('plan_id')} = %s", [plan.pk])
        before = cursor.fetchone()[0] or 0
        columns = (
            "plan_id",
            "student_id",
            "occupation_id",
            "level",
            "added_round",
            "added_by_id",
            "added_at",
            "attendance",
            "attendance_reason",
            "outcome",
        )
        fixed = (plan.occupation.occupation_id, plan.level, plan.round, actor.pk, now, Attendance.EXPECTED, "", "")
        cursor.executemany(
            f"INSERT INTO {q(table)} ({', '.join(q(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
            [(plan.pk, student_id, *fixed) for student_id in student_ids],
        )
        copied = [f.column for f in Candidate._meta.concrete_fields]
        cursor.execute(
            f"INSERT INTO {q(history)} ({', '.join(q(c) for c in copied)}, {q('history_date')}, "
            f"{q('history_change_reason')}, {q('history_type')}, {q('history_user_id')}) "
            f"SELECT {', '.join(q(c) for c in copied)}, %s, %s, '+', %s FROM {q(table)} "
            f"WHERE {q('plan_id')} = %s AND {q('id')} > %s",
            [now, reason, actor.pk, plan.pk, before],
        )
    return len(student_ids)


def candidate_remove(*, plan: EvaluationPlan, actor: User, candidate: Candidate) -> None:
    if candidate.plan_id != plan.pk:
        raise PermissionDenied
    with transaction.atomic():
        locked = _locked(plan)
        _check_editable(locked, actor)
        record(candidate, actor=actor, reason=stored(gettext_lazy("移出考生名单")))
        candidate.delete()


# --- Centre: openings to other schools (annex §1.2) ---------------------------------------


def may_record_openings(user) -> bool:
    return user.is_authenticated and user.has_role(Role.CENTRE_REVIEWER)


def _tell_opening(opening: CandidateOpening, title) -> None:
    staff = users_with_roles(
        [Role.SCHOOL_STAFF],
    ).filter(organisation_id__in=[opening.institution.school.organisation_id, opening.school.organisation_id])
    notify(
        recipients=list(staff),
        title=stored(
            gettext_lazy("%(title)s：%(institution)s → %(school)s"),
            title=title,
            institution=opening.institution.name,
            school=opening.school.name,
        ),
        body=opening.reference,
        link=reverse("assessments:opening_list"),
    )


def opening_record(
    *,
    actor: User,
    institution: Institution,
    school: School,
    decided_on: dt.date,
    reference: str,
    commission_dept_officer: User,
) -> CandidateOpening:
    """The centre records that an institution is opened to another school's related majors,
    decided with the commission's functional department (the officer who agreed is named)."""
    if not may_record_openings(actor):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if school.pk == institution.school_id:
        errors["school"] = [_("评价机构本校的学生无需开放，请选择其他学校。")]
    if not commission_dept_officer.has_role(Role.COMMISSION_DEPT_OFFICER):
        errors["commission_dept_officer"] = [_("会同决定的须为市教委相关职能部门经办人。")]
    if not reference.strip():
        errors["reference"] = [_("请填写决定文号。")]
    if decided_on > timezone.localdate():
        errors["decided_on"] = [_("决定日期不能晚于今天。")]
    if CandidateOpening.objects.filter(institution=institution, school=school, ended_on__isnull=True).exists():
        errors["school"] = [
            _("%(institution)s面向%(school)s的开放尚未终止，请勿重复登记。")
            % {"institution": institution.name, "school": school.name}
        ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        opening = CandidateOpening(
            institution=institution,
            school=school,
            decided_on=decided_on,
            reference=reference.strip(),
            centre_officer=actor,
            commission_dept_officer=commission_dept_officer,
        )
        record(opening, actor=actor, reason=stored(gettext_lazy("登记面向外校开放")))
        opening.save()
        _tell_opening(opening, gettext_lazy("评价机构面向外校开放"))
    return opening


def opening_end(*, actor: User, opening: CandidateOpening, ended_on: dt.date) -> CandidateOpening:
    if not may_record_openings(actor):
        raise PermissionDenied
    with transaction.atomic():
        locked = (
            CandidateOpening.objects.select_for_update(of=("self",))
            .select_related("institution__school__organisation", "school__organisation")
            .get(pk=opening.pk)
        )
        if locked.ended_on is not None:
            raise TransitionError(_("该开放已于%(d)s终止。") % {"d": locked.ended_on.isoformat()})
        if ended_on < locked.decided_on:
            raise ValidationError({"ended_on": [_("终止日期不能早于决定日期%(d)s。") % {"d": locked.decided_on}]})
        locked.ended_on = ended_on
        record(locked, actor=actor, reason=stored(gettext_lazy("终止面向外校开放")))
        locked.save(update_fields=["ended_on"])
        _tell_opening(locked, gettext_lazy("评价机构面向外校开放已终止"))
    return locked
