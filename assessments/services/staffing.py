"""Rooms and staff of a batch and the staffing checks (notice annex §4.1; issue 8 item 4).

The school puts filed exam rooms of the plan's site into the batch, one part each (theory or
practical for result assessment, a module for process assessment), at times inside the batch,
with the number of candidates expected; then people: invigilators per theory room, examiners per
practical or module room, internal quality supervisors for the whole batch. A person is a school
staff member of the school or an invited account of another organisation (an expert, say); the
``BatchStaff`` row is their access to that batch only.

The checks read the occupation's ``StaffingStandard`` (the occupation's row, else the common row,
else the defaults of DOMAIN.md), are shown on the batch page while it is editable and refuse the
plan's filing (``plan_submit``). A staff row that is wrong at once (barred, in two rooms at the
same time) is refused when added, with the same message.

Changes to an accepted plan are filed again: every filing keeps a ``PlanSnapshot`` of what was
filed (``snapshot_data``); ``changes_since_accepted`` compares the plan with the last accepted one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import (
    AssessmentMethod,
    BarredKind,
    Barring,
    BatchRoom,
    BatchStaff,
    Candidate,
    ConflictDeclaration,
    Duty,
    EvaluationPlan,
    PlanSnapshot,
    PlanStatus,
    RoomPart,
    StaffingStandard,
)
from institutions.models import ExamRoom
from institutions.services.workflow import is_school_staff_of
from portal.access import users_with_roles
from portal.i18n import stored
from portal.models import Occupation, Role, User
from portal.services import notify, record

ROOM_DUTIES = {Duty.INVIGILATOR: {RoomPart.THEORY}, Duty.EXAMINER: {RoomPart.PRACTICAL, RoomPart.MODULE}}
PARTS_BY_METHOD = {
    AssessmentMethod.RESULT: [RoomPart.THEORY, RoomPart.PRACTICAL],
    AssessmentMethod.PROCESS: [RoomPart.MODULE],
}
EXAMINED_PARTS = {RoomPart.PRACTICAL, RoomPart.MODULE}


# --- Labels used in every message -----------------------------------------------------------


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value)


def room_label(batch_room: BatchRoom) -> str:
    """「301」（理论考试，12-10 09:00–11:00）: the room, its part and its time."""
    start, end = _local(batch_room.starts_at), _local(batch_room.ends_at)
    span = (
        f"{start:%m-%d %H:%M}–{end:%H:%M}" if start.date() == end.date() else f"{start:%m-%d %H:%M}–{end:%m-%d %H:%M}"
    )
    return _("「%(room)s」（%(part)s，%(span)s）") % {
        "room": batch_room.room.name,
        "part": batch_room.get_part_display(),
        "span": span,
    }


def person_label(person: User) -> str:
    return f"{person.full_name}（{person.username}）" if person.full_name else person.username


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


# --- Who may change rooms and staff ---------------------------------------------------------


def may_edit(user, plan: EvaluationPlan) -> bool:
    return plan.is_editable and is_school_staff_of(user, plan.institution.school)


def _editable(plan: EvaluationPlan, actor: User) -> EvaluationPlan:
    """The plan locked for the change; 403 for anyone but the school's staff, refused once filed."""
    if not is_school_staff_of(actor, plan.institution.school):
        raise PermissionDenied
    locked = EvaluationPlan.objects.select_for_update().select_related("site", "occupation").get(pk=plan.pk)
    if not locked.is_editable:
        raise ValidationError(
            _("评价计划当前状态为“%(status)s”，不能修改考场和考务人员。") % {"status": locked.get_status_display()}
        )
    return locked


# --- The standard ---------------------------------------------------------------------------


def standard_for(plan: EvaluationPlan) -> StaffingStandard:
    """The occupation's row, else the common row, else the defaults (unsaved)."""
    rows = {
        row.occupation_id: row
        for row in StaffingStandard.objects.filter(
            Q(occupation_id=plan.occupation.occupation_id) | Q(occupation__isnull=True)
        )
    }
    return rows.get(plan.occupation.occupation_id) or rows.get(None) or StaffingStandard()


def needed_invigilators(standard: StaffingStandard, candidates: int) -> int:
    return max(standard.theory_min_invigilators, math.ceil(candidates / standard.theory_candidates_per_invigilator))


def needed_examiners(standard: StaffingStandard, candidates: int) -> int:
    n = max(standard.practical_min_examiners, math.ceil(candidates / standard.practical_candidates_per_examiner))
    if standard.practical_examiners_odd and n % 2 == 0:
        n += 1
    return n


# --- Rooms ----------------------------------------------------------------------------------


def room_add(
    *,
    plan: EvaluationPlan,
    actor: User,
    room: ExamRoom,
    part: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    candidates_expected: int,
) -> BatchRoom:
    with transaction.atomic():
        locked = _editable(plan, actor)
        if room.site_id != locked.site_id:
            raise ValidationError(
                _("考场「%(room)s」不属于本批次的考核站点「%(site)s」。")
                % {"room": room.name, "site": locked.site.name}
            )
        problems = []
        if part not in PARTS_BY_METHOD.get(locked.method, []):
            problems.append(
                _("%(method)s不安排“%(part)s”。")
                % {"method": locked.get_method_display(), "part": RoomPart(part).label if part in RoomPart else part}
            )
        if ends_at <= starts_at:
            problems.append(_("考场「%(room)s」的结束时间须晚于开始时间。") % {"room": room.name})
        elif starts_at < locked.starts_at or ends_at > locked.ends_at:
            problems.append(
                _("考场「%(room)s」的时间须在本批次时间%(start)s—%(end)s之内。")
                % {
                    "room": room.name,
                    "start": f"{_local(locked.starts_at):%Y-%m-%d %H:%M}",
                    "end": f"{_local(locked.ends_at):%Y-%m-%d %H:%M}",
                }
            )
        if candidates_expected < 1:
            problems.append(_("考场「%(room)s」的安排考生数至少为1人。") % {"room": room.name})
        elif candidates_expected > room.capacity:
            problems.append(
                _("考场「%(room)s」安排考生%(n)s人，超过其容纳人数%(cap)s人（规则：考生数不得超过考场容纳人数）。")
                % {"room": room.name, "n": candidates_expected, "cap": room.capacity}
            )
        if not problems:
            taken = (
                BatchRoom.objects.filter(room=room, starts_at__lt=ends_at, ends_at__gt=starts_at)
                .exclude(plan__status=PlanStatus.WITHDRAWN)
                .select_related("room")
                .first()
            )
            if taken is not None:
                problems.append(
                    _(
                        "考场「%(room)s」在该时段已安排给评价计划#%(plan)s%(other)s（规则：同一考场同一时段只安排一场）。"
                    )
                    % {"room": room.name, "plan": taken.plan_id, "other": room_label(taken)}
                )
        if problems:
            raise ValidationError(problems)
        batch_room = BatchRoom(
            plan=locked,
            room=room,
            part=part,
            starts_at=starts_at,
            ends_at=ends_at,
            candidates_expected=candidates_expected,
        )
        record(batch_room, actor=actor, reason=stored(gettext_lazy("安排考场")))
        batch_room.save()
    return batch_room


def room_remove(*, batch_room: BatchRoom, actor: User) -> None:
    """The room's staff go with it (their access to the batch with them)."""
    with transaction.atomic():
        _editable(batch_room.plan, actor)
        for row in batch_room.staff.all():
            record(row, actor=actor, reason=stored(gettext_lazy("撤销考场，其考务人员随之撤销")))
            row.delete()
        record(batch_room, actor=actor, reason=stored(gettext_lazy("撤销考场")))
        batch_room.delete()


# --- Staff ----------------------------------------------------------------------------------


def school_people(plan: EvaluationPlan):
    """The school's own staff who may be put on the batch."""
    return (
        User.objects.filter(
            is_active=True, organisation_id=plan.institution.school.organisation_id, roles__role=Role.SCHOOL_STAFF
        )
        .distinct()
        .order_by("full_name", "username")
    )


def invitee(username: str) -> User | None:
    """An existing account by its user name (an expert, a teacher of another school)."""
    return User.objects.filter(username=username.strip(), is_active=True).first()


def _barring_of(person: User, plan: EvaluationPlan) -> Barring | None:
    first, last = timezone.localdate(plan.starts_at), timezone.localdate(plan.ends_at)
    return (
        Barring.objects.filter(kind=BarredKind.STAFF, person=person, starts_on__lte=last)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
        .first()
    )


def _barred_message(person: User, duty_label: str, barring: Barring) -> str:
    until = barring.ends_on.isoformat() if barring.ends_on else _("另行通知")
    return _(
        "%(person)s自%(start)s至%(end)s被禁止从事考务工作，不能担任本批次的%(duty)s（规则：被禁入人员不得参与考务）。"
    ) % {"person": person_label(person), "start": barring.starts_on.isoformat(), "end": until, "duty": duty_label}


def _overlap_message(person: User, here: BatchRoom, there: BatchRoom, plan: EvaluationPlan) -> str:
    where = _("本批次") if there.plan_id == plan.pk else _("评价计划#%(plan)s") % {"plan": there.plan_id}
    return _(
        "%(person)s同时被安排在考场%(here)s和%(where)s的考场%(there)s，时间重叠（规则：同一人员不得在时间重叠的两个考场任职）。"
    ) % {"person": person_label(person), "here": room_label(here), "where": where, "there": room_label(there)}


def _conflict_message(person: User, batch_room: BatchRoom, declaration: ConflictDeclaration) -> str:
    student = declaration.student
    return _(
        "考评人员%(person)s已申报与考生%(student)s（学号%(number)s）回避，不能在本批次考场%(room)s担任考评人员（规则：考评人员不得评价其申报回避的考生）。"
    ) % {
        "person": person_label(person),
        "student": student.name,
        "number": student.student_number,
        "room": room_label(batch_room),
    }


def _other_duties(persons, plan: EvaluationPlan, start, end):
    """Room duties of these people in other batches (not withdrawn) at times overlapping [start, end)."""
    return (
        BatchStaff.objects.filter(person__in=persons, room__isnull=False)
        .exclude(plan=plan)
        .exclude(plan__status=PlanStatus.WITHDRAWN)
        .filter(room__starts_at__lt=end, room__ends_at__gt=start)
        .select_related("room__room")
    )


def staff_add(
    *, plan: EvaluationPlan, actor: User, person: User, duty: str, room: BatchRoom | None = None
) -> BatchStaff:
    """Put a person on the batch. A school staff member of the school, or an invited account
    (``invited``): an active user of another organisation."""
    with transaction.atomic():
        locked = _editable(plan, actor)
        school_org = locked.institution.school.organisation_id
        duty_label = Duty(duty).label if duty in Duty.values else duty
        if duty not in Duty.values:
            raise ValidationError(_("职责无效。"))
        if not person.is_active:
            raise ValidationError(_("%(person)s的账号已停用。") % {"person": person_label(person)})
        invited = person.organisation_id != school_org
        if not invited and not person.has_role(Role.SCHOOL_STAFF):
            raise ValidationError(
                _("%(person)s不是本校评价工作人员，请以外聘人员身份邀请。") % {"person": person_label(person)}
            )
        if duty == Duty.INTERNAL_SUPERVISOR:
            room = None
            if BatchStaff.objects.filter(plan=locked, person=person, duty=duty).exists():
                raise ValidationError(_("%(person)s已是本批次的内部质量督导人员。") % {"person": person_label(person)})
        else:
            if room is None or room.plan_id != locked.pk:
                raise ValidationError(_("请选择本批次的考场。"))
            if room.part not in ROOM_DUTIES[duty]:
                raise ValidationError(
                    _("考场%(room)s不能安排%(duty)s：监考人员安排在理论考场，考评人员安排在实操或过程考核考场。")
                    % {"room": room_label(room), "duty": duty_label}
                )
            if BatchStaff.objects.filter(plan=locked, person=person, duty=duty, room=room).exists():
                raise ValidationError(
                    _("%(person)s已是考场%(room)s的%(duty)s。")
                    % {"person": person_label(person), "room": room_label(room), "duty": duty_label}
                )
        problems = []
        barring = _barring_of(person, locked)
        if barring is not None:
            problems.append(_barred_message(person, duty_label, barring))
        if room is not None:
            mine = (
                BatchStaff.objects.filter(plan=locked, person=person, room__isnull=False)
                .exclude(room=room)
                .filter(room__starts_at__lt=room.ends_at, room__ends_at__gt=room.starts_at)
                .select_related("room__room")
            )
            others = _other_duties([person], locked, room.starts_at, room.ends_at)
            for row in [*mine, *others]:
                problems.append(_overlap_message(person, room, row.room, locked))
            if duty == Duty.EXAMINER:
                declared = ConflictDeclaration.objects.filter(
                    person=person, student__candidacies__plan=locked
                ).select_related("student")
                problems.extend(_conflict_message(person, room, d) for d in declared)
        if problems:
            raise ValidationError(problems)
        row = BatchStaff(plan=locked, person=person, duty=duty, room=room, invited=invited, added_by=actor)
        record(row, actor=actor, reason=stored(gettext_lazy("安排考务人员")))
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError as exc:
            raise ValidationError(_("该人员已有此项安排。")) from exc
    return row


def staff_remove(*, staff: BatchStaff, actor: User) -> None:
    with transaction.atomic():
        _editable(staff.plan, actor)
        record(staff, actor=actor, reason=stored(gettext_lazy("撤销考务人员安排")))
        staff.delete()


# --- The checks -----------------------------------------------------------------------------


def staffing_problems(plan: EvaluationPlan) -> list[str]:
    """Why the plan's rooms and staff do not meet the standard: each names the room, the person
    and the rule. A handful of queries whatever the numbers."""
    standard = standard_for(plan)
    rooms = list(plan.rooms.select_related("room").order_by("starts_at", "id"))
    staff = list(plan.staff.select_related("person", "room__room").order_by("id"))
    by_room: dict[int, list[BatchStaff]] = defaultdict(list)
    for row in staff:
        if row.room_id:
            by_room[row.room_id].append(row)
    problems: list[str] = []
    for br in rooms:
        label = room_label(br)
        c = br.candidates_expected
        if br.starts_at < plan.starts_at or br.ends_at > plan.ends_at:  # the plan's dates moved since
            problems.append(
                _("考场%(room)s的时间不在本批次时间%(start)s—%(end)s之内（规则：考场时间在批次时间之内）。")
                % {"room": label, "start": _iso(plan.starts_at), "end": _iso(plan.ends_at)}
            )
        if c > br.room.capacity:
            problems.append(
                _("考场%(room)s安排考生%(n)s人，超过其容纳人数%(cap)s人（规则：考生数不得超过考场容纳人数）。")
                % {"room": label, "n": c, "cap": br.room.capacity}
            )
        if br.part == RoomPart.THEORY:
            n = sum(1 for row in by_room[br.pk] if row.duty == Duty.INVIGILATOR)
            if n < standard.theory_min_invigilators:
                problems.append(
                    _("理论考场%(room)s有监考人员%(n)s名，少于%(min)s名（规则：每个理论考场至少%(min)s名监考人员）。")
                    % {"room": label, "n": n, "min": standard.theory_min_invigilators}
                )
            ratio = math.ceil(c / standard.theory_candidates_per_invigilator)
            if n < ratio and ratio > standard.theory_min_invigilators:  # else the minimum says it
                problems.append(
                    _(
                        "理论考场%(room)s安排考生%(c)s人，需监考人员至少%(need)s名，现有%(n)s名（规则：每%(per)s名考生至少1名监考人员）。"
                    )
                    % {"room": label, "c": c, "need": ratio, "n": n, "per": standard.theory_candidates_per_invigilator}
                )
        elif br.part in EXAMINED_PARTS:
            n = sum(1 for row in by_room[br.pk] if row.duty == Duty.EXAMINER)
            if n < standard.practical_min_examiners:
                problems.append(
                    _("考场%(room)s有考评人员%(n)s名，少于%(min)s名（规则：每个实操考场至少%(min)s名考评人员）。")
                    % {"room": label, "n": n, "min": standard.practical_min_examiners}
                )
            ratio = math.ceil(c / standard.practical_candidates_per_examiner)
            if n < ratio and ratio > standard.practical_min_examiners:
                problems.append(
                    _(
                        "考场%(room)s安排考生%(c)s人，需考评人员至少%(need)s名，现有%(n)s名（规则：每%(per)s名考生至少1名考评人员）。"
                    )
                    % {"room": label, "c": c, "need": ratio, "n": n, "per": standard.practical_candidates_per_examiner}
                )
            if standard.practical_examiners_odd and n and n % 2 == 0:
                problems.append(
                    _("考场%(room)s有考评人员%(n)s名，须为奇数（规则：实操考评人员人数为奇数）。")
                    % {"room": label, "n": n}
                )
    problems.extend(_overlap_problems(plan, staff))
    problems.extend(_conflict_problems(plan, staff))
    problems.extend(_barring_problems(plan, staff))
    return problems


def _overlap_problems(plan: EvaluationPlan, staff: list[BatchStaff]) -> list[str]:
    room_rows = [row for row in staff if row.room_id]
    if not room_rows:
        return []
    problems = []
    by_person: dict[int, list[BatchStaff]] = defaultdict(list)
    for row in room_rows:
        by_person[row.person_id].append(row)
    for rows in by_person.values():
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                if a.room_id != b.room_id and _overlaps(
                    a.room.starts_at, a.room.ends_at, b.room.starts_at, b.room.ends_at
                ):
                    problems.append(_overlap_message(a.person, a.room, b.room, plan))
    start = min(row.room.starts_at for row in room_rows)
    end = max(row.room.ends_at for row in room_rows)
    for other in _other_duties(list(by_person), plan, start, end):
        for row in by_person[other.person_id]:
            if _overlaps(row.room.starts_at, row.room.ends_at, other.room.starts_at, other.room.ends_at):
                problems.append(_overlap_message(row.person, row.room, other.room, plan))
    return problems


def _conflict_problems(plan: EvaluationPlan, staff: list[BatchStaff]) -> list[str]:
    examiners: dict[int, list[BatchStaff]] = defaultdict(list)
    for row in staff:
        if row.duty == Duty.EXAMINER:
            examiners[row.person_id].append(row)
    if not examiners:
        return []
    students = Candidate.objects.filter(plan=plan).values("student_id")
    declared = ConflictDeclaration.objects.filter(
        person_id__in=list(examiners), student_id__in=students
    ).select_related("student")
    return [_conflict_message(row.person, row.room, d) for d in declared for row in examiners[d.person_id]]


def _barring_problems(plan: EvaluationPlan, staff: list[BatchStaff]) -> list[str]:
    if not staff:
        return []
    first, last = timezone.localdate(plan.starts_at), timezone.localdate(plan.ends_at)
    barrings = {
        b.person_id: b
        for b in Barring.objects.filter(
            kind=BarredKind.STAFF, person_id__in={row.person_id for row in staff}, starts_on__lte=last
        ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
    }
    problems = []
    for row in staff:
        barring = barrings.get(row.person_id)
        if barring is not None:
            message = _barred_message(row.person, row.get_duty_display(), barring)
            if row.room_id:
                message = _("考场%(room)s：") % {"room": room_label(row.room)} + message
            problems.append(message)
    return problems


def staffing_gaps(plan: EvaluationPlan) -> list[str]:
    """What the plan does not have yet (shown, not refused: the centre judges a batch without them)."""
    gaps = []
    parts = set(plan.rooms.values_list("part", flat=True))
    for part in PARTS_BY_METHOD.get(plan.method, []):
        if part not in parts:
            gaps.append(_("尚未安排“%(part)s”考场。") % {"part": RoomPart(part).label})
    if not plan.staff.filter(duty=Duty.INTERNAL_SUPERVISOR).exists():
        gaps.append(_("尚未安排内部质量督导人员。"))
    return gaps


# --- The standard, edited by the centre -----------------------------------------------------

STANDARD_FIELDS = (
    "theory_candidates_per_invigilator",
    "theory_min_invigilators",
    "practical_candidates_per_examiner",
    "practical_min_examiners",
    "practical_examiners_odd",
    "full_mark",
    "pass_mark",
    "source",
)


def _standard_problems(values: dict) -> list[str]:
    problems = []
    for name in ("theory_candidates_per_invigilator", "practical_candidates_per_examiner"):
        if values[name] < 1:
            problems.append(_("“%(field)s”至少为1。") % {"field": StaffingStandard._meta.get_field(name).verbose_name})
    if values["pass_mark"] > values["full_mark"]:
        problems.append(_("合格分数线不能高于满分。"))
    return problems


def standard_save(
    *, actor: User, standard: StaffingStandard | None = None, occupation: Occupation | None = None, **values
) -> StaffingStandard:
    """Create (for an occupation, or the common row) or change a standard; the history keeps who and why."""
    if not actor.has_role(Role.CENTRE_REVIEWER):
        raise PermissionDenied
    unknown = set(values) - set(STANDARD_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    with transaction.atomic():
        if standard is None:
            if StaffingStandard.objects.filter(occupation=occupation).exists():
                raise ValidationError(_("%(o)s已有考务配置标准，请直接修改。") % {"o": occupation or _("通用规则")})
            standard = StaffingStandard(occupation=occupation)
            reason = gettext_lazy("新建考务配置标准")
        else:
            standard = StaffingStandard.objects.select_for_update().get(pk=standard.pk)
            reason = gettext_lazy("修改考务配置标准")
        merged = {name: values.get(name, getattr(standard, name)) for name in STANDARD_FIELDS}
        problems = _standard_problems(merged)
        if problems:
            raise ValidationError(problems)
        for name, value in merged.items():
            setattr(standard, name, value)
        standard.updated_by = actor
        record(standard, actor=actor, reason=stored(reason))
        standard.save()
    return standard


# --- Snapshots of what was filed, and what changed ------------------------------------------


def _iso(value: dt.datetime) -> str:
    return _local(value).strftime("%Y-%m-%d %H:%M")


def snapshot_data(plan: EvaluationPlan) -> dict:
    """What is filed: dates, site, method, rooms, staff and candidates (JSON)."""
    rooms = list(plan.rooms.select_related("room").order_by("starts_at", "id"))
    room_keys = {br.pk: f"{br.room_id}|{br.part}|{_iso(br.starts_at)}" for br in rooms}
    staff = plan.staff.select_related("person").order_by("duty", "id")
    candidates = Candidate.objects.filter(plan=plan).select_related("student").order_by("student__student_number")
    return {
        "starts_at": _iso(plan.starts_at),
        "ends_at": _iso(plan.ends_at),
        "site": plan.site.name,
        "method": plan.method,
        "rooms": [
            {
                "key": room_keys[br.pk],
                "room": br.room.name,
                "part": br.part,
                "starts_at": _iso(br.starts_at),
                "ends_at": _iso(br.ends_at),
                "candidates_expected": br.candidates_expected,
            }
            for br in rooms
        ],
        "staff": [
            {
                "key": f"{row.person_id}|{row.duty}|{room_keys.get(row.room_id, '')}",
                "person": person_label(row.person),
                "duty": row.duty,
                "room": room_keys.get(row.room_id, ""),
            }
            for row in staff
        ],
        "candidates": [{"number": c.student.student_number, "name": c.student.name} for c in candidates],
    }


def snapshot_take(plan: EvaluationPlan) -> PlanSnapshot:
    """Called by ``plan_submit`` (inside its step) once the round is counted."""
    snapshot, _created = PlanSnapshot.objects.update_or_create(
        plan=plan, round=plan.round, defaults={"data": snapshot_data(plan)}
    )
    return snapshot


def snapshot_accept(plan: EvaluationPlan) -> None:
    """Called by ``plan_accept``: the round just accepted is the version in force."""
    PlanSnapshot.objects.filter(plan=plan, round=plan.round).update(accepted_at=timezone.now())


def last_accepted(plan: EvaluationPlan) -> PlanSnapshot | None:
    return plan.snapshots.filter(accepted_at__isnull=False).order_by("-round").first()


def _room_text(room: dict) -> str:
    part = RoomPart(room["part"]).label if room["part"] in RoomPart.values else room["part"]
    return _("「%(room)s」（%(part)s，%(start)s—%(end)s，%(n)s人）") % {
        "room": room["room"],
        "part": part,
        "start": room["starts_at"],
        "end": room["ends_at"],
        "n": room["candidates_expected"],
    }


def _staff_text(row: dict, rooms: dict[str, dict]) -> str:
    duty = Duty(row["duty"]).label if row["duty"] in Duty.values else row["duty"]
    room = rooms.get(row["room"])
    if room is None:
        return f"{row['person']} · {duty}"
    return f"{row['person']} · {duty} · {room['room']}（{room['starts_at']}）"


def diff(old: dict, new: dict) -> dict:
    """Added and removed rooms, staff and candidates, and changed dates, site or method."""
    fields = []
    labels = {"starts_at": _("开始时间"), "ends_at": _("结束时间"), "site": _("考核站点"), "method": _("评价方式")}
    for name, label in labels.items():
        if old.get(name) != new.get(name):
            before, after = old.get(name, ""), new.get(name, "")
            if name == "method":
                before = AssessmentMethod(before).label if before in AssessmentMethod.values else before
                after = AssessmentMethod(after).label if after in AssessmentMethod.values else after
            fields.append((label, before, after))
    old_rooms = {r["key"]: r for r in old.get("rooms", [])}
    new_rooms = {r["key"]: r for r in new.get("rooms", [])}
    all_rooms = {**old_rooms, **new_rooms}
    old_staff = {s["key"]: s for s in old.get("staff", [])}
    new_staff = {s["key"]: s for s in new.get("staff", [])}
    old_cands = {c["number"]: c for c in old.get("candidates", [])}
    new_cands = {c["number"]: c for c in new.get("candidates", [])}

    def cand(c):
        return f"{c['name']}（{c['number']}）"

    changes = {
        "fields": fields,
        "rooms_added": [_room_text(new_rooms[k]) for k in new_rooms if k not in old_rooms],
        "rooms_removed": [_room_text(old_rooms[k]) for k in old_rooms if k not in new_rooms],
        "rooms_changed": [
            (_room_text(old_rooms[k]), _room_text(new_rooms[k]))
            for k in new_rooms
            if k in old_rooms and old_rooms[k] != new_rooms[k]
        ],
        "staff_added": [_staff_text(new_staff[k], all_rooms) for k in new_staff if k not in old_staff],
        "staff_removed": [_staff_text(old_staff[k], all_rooms) for k in old_staff if k not in new_staff],
        "candidates_added": [cand(new_cands[k]) for k in new_cands if k not in old_cands],
        "candidates_removed": [cand(old_cands[k]) for k in old_cands if k not in new_cands],
    }
    changes["empty"] = not any(changes.values())
    return changes


def changes_since_accepted(plan: EvaluationPlan) -> dict | None:
    """While a change to an accepted plan is prepared, filed or returned: what differs from the
    version in force (None when there is no accepted version, or the plan is that version)."""
    if plan.status not in {PlanStatus.AMENDING, PlanStatus.SUBMITTED, PlanStatus.RETURNED}:
        return None
    base = last_accepted(plan)
    if base is None:
        return None
    changes = diff(base.data, snapshot_data(plan))
    changes["base_round"] = base.round
    changes["base_accepted_at"] = base.accepted_at
    return changes


def dates_changed_since_accepted(plan: EvaluationPlan) -> bool | None:
    """None when the plan was never accepted; else whether its dates differ from the accepted version."""
    base = last_accepted(plan)
    if base is None:
        return None
    return base.data.get("starts_at") != _iso(plan.starts_at) or base.data.get("ends_at") != _iso(plan.ends_at)


# --- Conflicts of interest (回避) -----------------------------------------------------------


def may_declare_conflict(user, plan: EvaluationPlan) -> bool:
    """An examiner of the batch declares their own conflicts with its candidates."""
    return (
        user.is_authenticated
        and plan.status != PlanStatus.WITHDRAWN
        and BatchStaff.objects.filter(plan=plan, person=user, duty=Duty.EXAMINER).exists()
    )


def conflict_declare(*, plan: EvaluationPlan, actor: User, candidate: Candidate, reason: str) -> ConflictDeclaration:
    """The examiner's own declaration: from then on they are never that student's examiner, in any batch."""
    if not may_declare_conflict(actor, plan):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请写明回避理由。"))
    if candidate.plan_id != plan.pk:
        raise ValidationError(_("只能对本批次的考生申报回避。"))
    with transaction.atomic():
        if ConflictDeclaration.objects.filter(person=actor, student_id=candidate.student_id).exists():
            raise ValidationError(
                _("已申报与考生%(student)s（学号%(number)s）回避。")
                % {"student": candidate.student.name, "number": candidate.student.student_number}
            )
        declaration = ConflictDeclaration.objects.create(person=actor, student_id=candidate.student_id, reason=reason)
        school_staff = users_with_roles([Role.SCHOOL_STAFF], organisation=plan.institution.school.organisation)
        notify(
            recipients=list(school_staff),
            title=stored(
                gettext_lazy("评价计划#%(plan)s：考评人员%(person)s申报回避"), plan=plan.pk, person=person_label(actor)
            ),
            body=stored(
                gettext_lazy("考评人员%(person)s申报与考生%(student)s回避，请调整考评人员安排。"),
                person=person_label(actor),
                student=candidate.student.name,
            ),
            link=reverse("assessments:plan_detail", args=[plan.pk]),
        )
    return declaration


# --- Barring (set by oversight's sanctions, annex §2.4.3) -------------------------------------


def bar_person(
    *,
    kind: str,
    actor: User,
    reason: str,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    id_number: str = "",
    person: User | None = None,
    authority=None,
) -> Barring:
    """Bar a person from sitting (``kind`` candidate, by ID number) or from batch duties (``kind``
    staff, by account) from ``starts_on`` to ``ends_on`` (open-ended when None). Only with the
    ``SANCTION`` authority of a violation case's decision; the candidate and staffing checks read it."""
    from institutions.services.workflow import SANCTION

    if authority is None or authority.name != SANCTION:
        raise PermissionDenied
    reason = (reason or "").strip() or authority.reason
    problems = []
    if not reason:
        problems.append(_("禁入须写明原因。"))
    if kind == BarredKind.CANDIDATE and not (id_number or "").strip():
        problems.append(_("禁止参加评价须有证件号码。"))
    if kind == BarredKind.STAFF and person is None:
        problems.append(_("禁止从事考务工作须指明人员。"))
    if kind not in BarredKind.values:
        problems.append(_("禁入类型无效。"))
    if starts_on is None:
        problems.append(_("请填写禁入起始日期。"))
    elif ends_on is not None and ends_on < starts_on:
        problems.append(_("禁入截止日期不能早于起始日期。"))
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        barring = Barring(
            kind=kind,
            id_number=(id_number or "").strip() if kind == BarredKind.CANDIDATE else "",
            person=person if kind == BarredKind.STAFF else None,
            starts_on=starts_on,
            ends_on=ends_on,
            reason=reason,
            decided_by=actor,
        )
        record(barring, actor=actor, reason=stored(gettext_lazy("依处理决定禁入：%(reason)s"), reason=reason))
        barring.save()
    return barring
