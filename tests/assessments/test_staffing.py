"""Rooms and staff of a batch and the staffing checks (issue 8 item 4): one test per refusal rule."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assessments import services
from assessments.models import (
    AssessmentMethod,
    BarredKind,
    Barring,
    BatchRoom,
    BatchStaff,
    Candidate,
    ConflictDeclaration,
    Duty,
    PlanStatus,
    RoomPart,
    StaffingStandard,
)
from assessments.services import staffing
from institutions.models import ExamRoom, Institution
from portal.models import Role
from portal.workflow import TransitionError
from schools.models import Level
from tests import factories
from tests.institutions.builders import Cast, corresponding_major

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)  # a Thursday
DAY = dt.date(2026, 12, 10)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class Batch:
    """A filed institution, its site with three rooms and a draft result-assessment plan on DAY."""

    def __init__(self, cast: Cast | None = None, *, method: str = AssessmentMethod.RESULT, day: dt.date = DAY):
        if cast is None:
            cast = Cast(factories.school())
            cast.filed()
        self.cast = cast
        self.staff = cast.staff
        self.inst = Institution.objects.get(school=cast.school)
        self.row = self.inst.occupations.get()
        self.site = self.inst.sites.get()
        self.rooms = {room.name: room for room in self.site.rooms.all()}
        for name, capacity in (("302", 40), ("实训室A", 20)):
            if name not in self.rooms:
                self.rooms[name] = ExamRoom.objects.create(
                    site=self.site, name=name, capacity=capacity, av_monitoring=True
                )
        self.plan = services.plan_create(
            institution=self.inst,
            actor=self.staff,
            occupation=self.row,
            level=Level.LEVEL_4,
            site=self.site,
            method=method,
            starts_at=at(day, 8),
            ends_at=at(day, 17),
        )
        self.day = day
        self._people = 0

    def person(self, full_name: str = ""):
        self._people += 1
        user = factories.user(Role.SCHOOL_STAFF, organisation=self.cast.school.organisation)
        if full_name:
            user.full_name = full_name
            user.save(update_fields=["full_name"])
        return user

    def room(self, name="301", part=RoomPart.THEORY, start=9, end=11, candidates=15) -> BatchRoom:
        return staffing.room_add(
            plan=self.plan,
            actor=self.staff,
            room=self.rooms[name],
            part=part,
            starts_at=at(self.day, start),
            ends_at=at(self.day, end),
            candidates_expected=candidates,
        )

    def put(self, room: BatchRoom | None, n: int, duty: str | None = None) -> list:
        duty = duty or (Duty.INVIGILATOR if room.part == RoomPart.THEORY else Duty.EXAMINER)
        people = [self.person() for _ in range(n)]
        for p in people:
            staffing.staff_add(plan=self.plan, actor=self.staff, person=p, duty=duty, room=room)
        return people

    def candidate(self, n: int | None = None) -> Candidate:
        student = factories.student(corresponding_major(self.cast.school, self.row.occupation), n=n)
        return Candidate.objects.create(
            plan=self.plan,
            student=student,
            occupation=self.row.occupation,
            level=self.plan.level,
            added_by=self.staff,
        )

    def well_staffed(self):
        theory = self.room("301", RoomPart.THEORY, 9, 11, candidates=15)
        practical = self.room("实训室A", RoomPart.PRACTICAL, 13, 16, candidates=15)
        self.put(theory, 2)
        examiners = self.put(practical, 3)
        self.put(None, 1, Duty.INTERNAL_SUPERVISOR)
        return theory, practical, examiners

    def problems(self) -> list[str]:
        self.plan.refresh_from_db()
        return staffing.staffing_problems(self.plan)


@pytest.fixture
def batch() -> Batch:
    return Batch()


def test_a_well_staffed_batch_has_no_problems_and_is_filed(batch):
    batch.well_staffed()
    assert batch.problems() == []
    plan = services.plan_submit(plan=batch.plan, actor=batch.staff)
    assert plan.status == PlanStatus.SUBMITTED


# --- Theory rooms -------------------------------------------------------------------------


def test_theory_room_needs_at_least_two_invigilators(batch):
    theory = batch.room("301", RoomPart.THEORY, 9, 11, candidates=10)
    batch.put(theory, 1)
    problems = batch.problems()
    assert any("「301」" in p and "少于2名" in p and "每个理论考场至少2名监考人员" in p for p in problems), problems
    with pytest.raises(TransitionError) as exc:
        services.plan_submit(plan=batch.plan, actor=batch.staff)
    assert any("每个理论考场至少2名监考人员" in m for m in exc.value.messages)
    batch.put(theory, 1)
    assert batch.problems() == []


def test_theory_room_needs_one_invigilator_per_fifteen_candidates(batch):
    theory = batch.room("302", RoomPart.THEORY, 9, 11, candidates=31)
    batch.put(theory, 2)
    problems = batch.problems()
    assert problems == [
        "理论考场「302」（理论考试，12-10 09:00–11:00）安排考生31人，需监考人员至少3名，现有2名"
        "（规则：每15名考生至少1名监考人员）。"
    ]
    batch.put(theory, 1)
    assert batch.problems() == []


# --- Practical rooms ----------------------------------------------------------------------


def test_practical_room_needs_at_least_three_examiners(batch):
    practical = batch.room("实训室A", RoomPart.PRACTICAL, 13, 16, candidates=5)
    batch.put(practical, 1)
    problems = batch.problems()
    assert any("「实训室A」" in p and "每个实操考场至少3名考评人员" in p for p in problems), problems


def test_practical_room_needs_an_odd_number_of_examiners(batch):
    practical = batch.room("实训室A", RoomPart.PRACTICAL, 13, 16, candidates=10)
    batch.put(practical, 4)
    problems = batch.problems()
    assert problems == [
        "考场「实训室A」（实操考核，12-10 13:00–16:00）有考评人员4名，须为奇数（规则：实操考评人员人数为奇数）。"
    ]
    batch.put(practical, 1)
    assert batch.problems() == []


def test_practical_room_needs_one_examiner_per_five(batch):
    practical = batch.room("实训室A", RoomPart.PRACTICAL, 13, 16, candidates=20)
    batch.put(practical, 3)
    problems = batch.problems()
    assert any("需考评人员至少4名，现有3名" in p and "每5名考生至少1名考评人员" in p for p in problems), problems
    batch.put(practical, 2)  # 5: enough and odd
    assert batch.problems() == []


def test_process_assessment_module_rooms_follow_the_examiner_rules():
    b = Batch(method=AssessmentMethod.PROCESS)
    with pytest.raises(ValidationError, match="不安排“理论考试”"):
        b.room("301", RoomPart.THEORY)
    module = b.room("实训室A", RoomPart.MODULE, 9, 12, candidates=5)
    b.put(module, 2)
    assert any("少于3名" in p for p in b.problems())


# --- Rooms --------------------------------------------------------------------------------


def test_room_capacity_is_not_exceeded(batch):
    with pytest.raises(ValidationError) as exc:
        batch.room("实训室A", RoomPart.PRACTICAL, 13, 16, candidates=21)
    assert exc.value.messages == [
        "考场「实训室A」安排考生21人，超过其容纳人数20人（规则：考生数不得超过考场容纳人数）。"
    ]
    assert not BatchRoom.objects.exists()
    # A room made smaller after it was put in the batch: the check before filing catches it.
    practical = batch.room("实训室A", RoomPart.PRACTICAL, 13, 16, candidates=20)
    batch.put(practical, 5)
    ExamRoom.objects.filter(pk=practical.room_id).update(capacity=15)
    assert batch.problems() == [
        "考场「实训室A」（实操考核，12-10 13:00–16:00）安排考生20人，超过其容纳人数15人"
        "（规则：考生数不得超过考场容纳人数）。"
    ]


def test_room_times_stay_inside_the_batch_and_the_site(batch):
    with pytest.raises(ValidationError, match="须在本批次时间2026-12-10 08:00—2026-12-10 17:00之内"):
        batch.room("301", start=16, end=18)
    other = Batch()
    with pytest.raises(ValidationError, match="不属于本批次的考核站点"):
        staffing.room_add(
            plan=batch.plan,
            actor=batch.staff,
            room=other.rooms["301"],
            part=RoomPart.THEORY,
            starts_at=at(DAY, 9),
            ends_at=at(DAY, 10),
            candidates_expected=5,
        )


def test_one_room_is_not_used_twice_at_the_same_time(batch):
    batch.room("301", start=9, end=11)
    with pytest.raises(ValidationError, match="同一考场同一时段只安排一场"):
        batch.room("301", part=RoomPart.PRACTICAL, start=10, end=12)


# --- People -------------------------------------------------------------------------------


def test_no_person_in_two_rooms_at_overlapping_times_within_a_batch(batch):
    a = batch.room("301", RoomPart.THEORY, 9, 11)
    b = batch.room("302", RoomPart.THEORY, 10, 12)
    person = batch.put(a, 1)[0]
    with pytest.raises(ValidationError) as exc:
        staffing.staff_add(plan=batch.plan, actor=batch.staff, person=person, duty=Duty.INVIGILATOR, room=b)
    (message,) = exc.value.messages
    assert person.username in message and "「301」" in message and "「302」" in message
    assert "同一人员不得在时间重叠的两个考场任职" in message
    # Rows written around the service (an older row, a room moved): the check before filing names them.
    BatchStaff.objects.create(plan=batch.plan, person=person, duty=Duty.INVIGILATOR, room=b, added_by=batch.staff)
    assert any("同一人员不得在时间重叠的两个考场任职" in p and person.username in p for p in batch.problems())


def test_no_person_in_two_rooms_at_overlapping_times_across_batches(batch):
    first = batch.room("301", RoomPart.THEORY, 9, 11)
    person = batch.put(first, 1)[0]
    # Another batch of the same school, same day, another site room at an overlapping time.
    second = Batch(batch.cast)
    other_room = second.room("302", RoomPart.THEORY, 10, 12)
    with pytest.raises(ValidationError) as exc:
        staffing.staff_add(plan=second.plan, actor=second.staff, person=person, duty=Duty.INVIGILATOR, room=other_room)
    (message,) = exc.value.messages
    assert f"评价计划#{batch.plan.pk}" in message and person.username in message and "「302」" in message
    # Not overlapping: fine. A withdrawn batch no longer holds the person.
    later = second.room("301", RoomPart.THEORY, 13, 15)
    staffing.staff_add(plan=second.plan, actor=second.staff, person=person, duty=Duty.INVIGILATOR, room=later)
    BatchStaff.objects.create(
        plan=second.plan, person=person, duty=Duty.INVIGILATOR, room=other_room, added_by=second.staff
    )
    assert any(f"评价计划#{batch.plan.pk}" in p for p in second.problems())
    services.plan_withdraw(plan=batch.plan, actor=batch.staff)
    assert not any("时间重叠" in p for p in second.problems())


def test_examiner_never_assesses_a_student_with_declared_conflict(batch):
    practical = batch.room("实训室A", RoomPart.PRACTICAL, 13, 16, candidates=5)
    examiners = batch.put(practical, 3)
    candidate = batch.candidate()
    ConflictDeclaration.objects.create(person=examiners[0], student=candidate.student, reason="亲属")
    problems = batch.problems()
    assert problems == [
        f"考评人员{examiners[0].full_name}（{examiners[0].username}）已申报与考生{candidate.student.name}"
        f"（学号{candidate.student.student_number}）回避，不能在本批次考场「实训室A」（实操考核，12-10 13:00–16:00）"
        "担任考评人员（规则：考评人员不得评价其申报回避的考生）。"
    ]
    with pytest.raises(TransitionError):
        services.plan_submit(plan=batch.plan, actor=batch.staff)
    # Declared before being added: refused at once. An invigilator is not an examiner.
    other = batch.person()
    ConflictDeclaration.objects.create(person=other, student=candidate.student, reason="师生以外关系")
    with pytest.raises(ValidationError, match="申报与考生"):
        staffing.staff_add(plan=batch.plan, actor=batch.staff, person=other, duty=Duty.EXAMINER, room=practical)
    theory = batch.room("301", RoomPart.THEORY, 9, 11, candidates=5)
    staffing.staff_add(plan=batch.plan, actor=batch.staff, person=other, duty=Duty.INVIGILATOR, room=theory)


def test_barred_person_cannot_be_staff(batch):
    theory = batch.room("301", RoomPart.THEORY, 9, 11)
    barred = batch.person()
    Barring.objects.create(
        kind=BarredKind.STAFF,
        person=barred,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2027, 12, 31),
        reason="违规",
        decided_by=batch.cast.centre,
    )
    with pytest.raises(ValidationError) as exc:
        staffing.staff_add(plan=batch.plan, actor=batch.staff, person=barred, duty=Duty.INVIGILATOR, room=theory)
    (message,) = exc.value.messages
    assert barred.username in message and "2026-01-01至2027-12-31" in message and "被禁入人员不得参与考务" in message
    assert not BatchStaff.objects.filter(person=barred).exists()
    # Barred after being put on the batch: the check before filing names the room and the person.
    ok = batch.put(theory, 2)
    Barring.objects.create(
        kind=BarredKind.STAFF, person=ok[0], starts_on=DAY, reason="违规", decided_by=batch.cast.centre
    )
    problems = batch.problems()
    assert len(problems) == 1 and "「301」" in problems[0] and ok[0].username in problems[0]
    # A barring that ended before the batch does not count.
    Barring.objects.filter(person=ok[0]).update(starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 12, 31))
    assert batch.problems() == []


def test_standard_edited_by_centre_applies(batch):
    theory = batch.room("301", RoomPart.THEORY, 9, 11, candidates=10)
    batch.put(theory, 2)
    assert batch.problems() == []
    with pytest.raises(PermissionDenied):
        staffing.standard_save(actor=batch.staff, occupation=None, theory_min_invigilators=3)
    common = staffing.standard_save(actor=batch.cast.centre, occupation=None, theory_min_invigilators=3)
    assert any("少于3名" in p for p in batch.problems())
    # The occupation's own row wins over the common rules.
    own = staffing.standard_save(
        actor=batch.cast.centre, occupation=batch.row.occupation, theory_min_invigilators=1, source="焊工标准"
    )
    assert batch.problems() == []
    staffing.standard_save(actor=batch.cast.centre, standard=own, theory_candidates_per_invigilator=4)
    assert any("需监考人员至少3名" in p and "每4名考生" in p for p in batch.problems())
    with pytest.raises(ValidationError, match="已有考务配置标准"):
        staffing.standard_save(actor=batch.cast.centre, occupation=None)
    with pytest.raises(ValidationError, match="合格分数线不能高于满分"):
        staffing.standard_save(actor=batch.cast.centre, standard=common, pass_mark=120)
    own.refresh_from_db()
    reasons = [h.history_change_reason for h in own.history.order_by("history_id")]
    assert len(reasons) == 2 and own.history.latest().history_user == batch.cast.centre
    assert StaffingStandard.objects.count() == 2


def test_duties_go_to_rooms_of_the_right_part(batch):
    theory = batch.room("301", RoomPart.THEORY, 9, 11)
    with pytest.raises(ValidationError, match="监考人员安排在理论考场"):
        staffing.staff_add(plan=batch.plan, actor=batch.staff, person=batch.person(), duty=Duty.EXAMINER, room=theory)


def test_staff_are_the_schools_own_or_invited_and_only_see_their_batch(batch):
    from assessments import selectors

    theory = batch.room("301", RoomPart.THEORY, 9, 11)
    expert = factories.user(Role.EXPERT)
    row = staffing.staff_add(plan=batch.plan, actor=batch.staff, person=expert, duty=Duty.INVIGILATOR, room=theory)
    assert row.invited
    own = batch.put(theory, 1)[0]
    assert not BatchStaff.objects.get(person=own).invited
    # A school user without the school-staff role is not taken as one of the school's staff.
    from portal.models import User

    plain = User.objects.create_user(
        username="plain", password="x-pass-2026", organisation=batch.cast.school.organisation
    )
    with pytest.raises(ValidationError, match="不是本校评价工作人员"):
        staffing.staff_add(plan=batch.plan, actor=batch.staff, person=plain, duty=Duty.INVIGILATOR, room=theory)
    # The invited expert sees this batch once filed, and no other.
    other = Batch(batch.cast)
    staffing.staff_add(plan=batch.plan, actor=batch.staff, person=batch.person(), duty=Duty.INVIGILATOR, room=theory)
    staffing.staff_add(
        plan=batch.plan,
        actor=batch.staff,
        person=batch.person(),
        duty=Duty.INTERNAL_SUPERVISOR,
    )
    practical = batch.room("实训室A", RoomPart.PRACTICAL, 13, 15, candidates=5)
    batch.put(practical, 3)
    assert list(selectors.plan_list(user=expert)) == []  # a draft is the school's own
    services.plan_submit(plan=batch.plan, actor=batch.staff)
    assert list(selectors.plan_list(user=expert)) == [batch.plan]
    assert other.plan not in selectors.plan_list(user=expert)
    # Only the school's staff change rooms and staff, and only while the plan is editable.
    with pytest.raises(PermissionDenied):
        staffing.room_remove(batch_room=theory, actor=expert)
    with pytest.raises(ValidationError, match="不能修改考场和考务人员"):
        staffing.room_remove(batch_room=theory, actor=batch.staff)


def test_removing_a_room_removes_its_staff_with_history(batch):
    theory = batch.room("301", RoomPart.THEORY, 9, 11)
    batch.put(theory, 2)
    staffing.room_remove(batch_room=theory, actor=batch.staff)
    assert not BatchRoom.objects.exists() and not BatchStaff.objects.exists()
    assert BatchStaff.history.filter(history_type="-", history_user=batch.staff).count() == 2


def test_home_panel_lists_a_persons_duties(batch):
    from assessments.views.staffing import home_panel

    theory = batch.room("301", RoomPart.THEORY, 9, 11)
    person = batch.put(theory, 1)[0]
    assert home_panel(person) is None  # a draft: not yet
    batch.put(theory, 1)
    batch.put(None, 1, Duty.INTERNAL_SUPERVISOR)
    practical = batch.room("实训室A", RoomPart.PRACTICAL, 13, 15, candidates=5)
    batch.put(practical, 3)
    services.plan_submit(plan=batch.plan, actor=batch.staff)
    panel = home_panel(person)
    assert panel is not None and len(panel.items) == 1
    assert "监考人员" in panel.items[0].label and "「301」" in panel.items[0].meta
    assert panel.items[0].url.endswith(f"/{batch.plan.pk}/#staffing")
    assert home_panel(factories.user(Role.EXPERT)) is None
