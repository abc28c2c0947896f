"""Who may be a candidate of a batch (notice annex §1.2, §4.1; DOMAIN.md): one test per rule."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.models import (
    BarredKind,
    Barring,
    Candidate,
    CandidateOpening,
    Outcome,
    PlanStatus,
    ResultFiling,
    ResultStatus,
)
from assessments.services import candidates as services
from institutions.models import OccupationJudgement
from portal.models import Role
from portal.workflow import TransitionError
from schools.models import Level, Major, SchoolType, ThroughStage, TrainingLevel
from tests import factories
from tests.assessments.candidate_builders import MAJOR_CODE, filed_batch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def batch():
    return filed_batch()


def refused(batch, students, *needles):
    """Adding ``students`` is refused with every needle in the messages, and nothing is written."""
    before = Candidate.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.candidates_add(plan=batch.plan, actor=batch.staff, students=students)
    text = "\n".join(exc.value.messages)
    for needle in needles:
        assert needle in text, text
    assert Candidate.objects.count() == before
    return exc.value.messages


def test_a_graduating_year_student_of_the_school_is_added_with_history(batch):
    student = batch.student(1)
    assert services.candidate_problems(batch.plan, student) == []
    [created] = services.candidates_add(plan=batch.plan, actor=batch.staff, students=[student])
    assert (created.plan, created.student, created.level) == (batch.plan, student, Level.LEVEL_4)
    assert created.occupation == batch.row.occupation and created.added_by == batch.staff
    assert created.history.get().history_user == batch.staff


def test_candidate_must_be_graduating_year_student_of_this_school(batch):
    later = batch.student(1, expected_graduation=dt.date(2028, 6, 30))
    messages = refused(batch, [later], "学号S000001 学生1", "不是毕业学年学生", "2026-09-01至2027-08-31")
    assert len(messages) == 1
    other_school = factories.school()
    stranger = batch.student(2, major=factories.major(other_school, code=MAJOR_CODE))
    refused(batch, [stranger], "学号S000002 学生2", "不是本校学生")
    # One refused student keeps the good one out too.
    good = batch.student(3)
    refused(batch, [good, later], "学号S000001")
    assert not Candidate.objects.filter(student=good).exists()


def test_other_school_student_only_after_opening(batch):
    other_school = factories.school()
    related = batch.student(1, major=factories.major(other_school, code=MAJOR_CODE))
    unrelated = batch.student(2, major=factories.major(other_school, code="460305"))
    assert any("不是本校学生" in p for p in services.candidate_problems(batch.plan, related))
    opening = CandidateOpening.objects.create(
        institution=batch.institution,
        school=other_school,
        decided_on=dt.date(2026, 12, 15),
        reference="沪职鉴〔2026〕8号",
        centre_officer=batch.centre,
        commission_dept_officer=factories.user(Role.COMMISSION_DEPT_OFFICER),
    )
    # Decided after the batch's date: not yet open on that day.
    assert any("不是本校学生" in p for p in services.candidate_problems(batch.plan, related))
    opening.decided_on = dt.date(2026, 11, 1)
    opening.save()
    assert services.candidate_problems(batch.plan, related) == []
    refused(batch, [unrelated], "学号S000002", "不是「6-18-02-04 焊工」的相关专业")
    # Ended before the batch: closed again.
    opening.ended_on = dt.date(2026, 12, 5)
    opening.save()
    assert any("不是本校学生" in p for p in services.candidate_problems(batch.plan, related))
    opening.ended_on = dt.date(2026, 12, 11)
    opening.save()
    services.candidates_add(plan=batch.plan, actor=batch.staff, students=[related])


def test_level_above_programme_cap_is_refused():
    # A 中职 programme stops at 四级: a 三级 batch refuses its students (even in a higher vocational school).
    batch = filed_batch(level=Level.LEVEL_3, training_level=TrainingLevel.SECONDARY)
    refused(batch, [batch.student(1)], "学号S000001", "三级/高级工高于该生培养层次（中职）可参加的最高等级四级/中级工")
    higher = filed_batch(level=Level.LEVEL_3, training_level=TrainingLevel.HIGHER)
    assert services.candidate_problems(higher.plan, higher.student(2)) == []


def test_level_outside_filed_range_is_refused():
    batch = filed_batch(level=Level.LEVEL_4, school_type=SchoolType.SECONDARY, training_level=TrainingLevel.SECONDARY)
    batch.row.lowest_level = batch.row.highest_level = Level.LEVEL_5  # the filed range narrowed since
    batch.row.save()
    refused(batch, [batch.student(1)], "学号S000001", "超出「6-18-02-04 焊工」备案的等级范围五级/初级工")


def test_major_must_correspond_to_occupation(batch):
    accounting = Major.objects.create(
        school=batch.school, code="530302", name="大数据与会计", training_level=TrainingLevel.HIGHER
    )
    student = batch.student(1, major=accounting)
    refused(batch, [student], "学号S000001", "530302 大数据与会计不是「6-18-02-04 焊工」备案时的对应专业")


def test_major_must_have_passed_its_evaluation():
    batch = filed_batch(panel_passed=False)
    refused(batch, [batch.student(1)], "学号S000001", "未通过「6-18-02-04 焊工」的专业评估论证")
    passed = filed_batch()
    panel = passed.row.application.panel
    OccupationJudgement.objects.create(
        panel=panel, expert=factories.user(Role.EXPERT), applied=passed.applied, sound=False, remarks="专业不对口"
    )
    refused(passed, [passed.student(2)], "学号S000002", "专业评估论证")


def test_through_programme_stage_must_be_complete():
    batch = filed_batch(training_level=TrainingLevel.SECONDARY, school_type=SchoolType.SECONDARY)
    batch.major.is_through_programme = True
    batch.major.save()
    unknown = batch.student(1, through_stage=ThroughStage.SECONDARY)
    late = batch.student(2, through_stage=ThroughStage.SECONDARY, stage_completed_on=dt.date(2026, 12, 31))
    done = batch.student(3, through_stage=ThroughStage.SECONDARY, stage_completed_on=dt.date(2026, 12, 10))
    refused(batch, [unknown], "学号S000001", "本阶段教学计划完成日期为（未登记）")
    refused(batch, [late], "学号S000002", "本批次开始于2026-12-10", "完成日期为2026-12-31")
    assert services.candidate_problems(batch.plan, done) == []


def test_through_programme_stage_sets_the_level_cap():
    # A 中高职贯通 student in the 中职 stage of a higher vocational major stops at 四级.
    batch = filed_batch(level=Level.LEVEL_3)
    batch.major.is_through_programme = True
    batch.major.save()
    student = batch.student(1, through_stage=ThroughStage.SECONDARY, stage_completed_on=dt.date(2026, 7, 1))
    refused(batch, [student], "培养层次（中职阶段）")


def test_duplicate_in_batch_is_refused(batch):
    student = batch.student(1)
    refused(batch, [student, student], "学号S000001", "在本次选择中重复出现")
    services.candidates_add(plan=batch.plan, actor=batch.staff, students=[student])
    refused(batch, [student], "学号S000001", "已在本批次考生名单中")
    assert Candidate.objects.filter(student=student).count() == 1


def test_duplicate_in_another_open_batch_is_refused(batch):
    student = batch.student(1)
    other = batch.another_plan(status=PlanStatus.ACCEPTED)
    services.candidates_add(plan=batch.plan, actor=batch.staff, students=[student])
    messages = refused_in(other, batch, student)
    assert any(f"已是评价计划#{batch.plan.pk}的考生" in m for m in messages)
    # Another level of the same occupation is another assessment.
    level_3 = batch.another_plan(level=Level.LEVEL_3)
    services.candidates_add(plan=level_3, actor=batch.staff, students=[student])
    # A withdrawn batch frees the student.
    batch.plan.status = PlanStatus.WITHDRAWN
    batch.plan.save()
    other.status = PlanStatus.DRAFT
    other.save()
    services.candidates_add(plan=other, actor=batch.staff, students=[student])


def refused_in(plan, batch, student) -> list[str]:
    plan.status = PlanStatus.DRAFT
    plan.save()
    with pytest.raises(ValidationError) as exc:
        services.candidates_add(plan=plan, actor=batch.staff, students=[student])
    return exc.value.messages


def test_already_certified_is_refused(batch):
    student = batch.student(1)
    earlier = batch.another_plan(status=PlanStatus.ACCEPTED)
    Candidate.objects.create(
        plan=earlier,
        student=student,
        occupation=batch.row.occupation,
        level=Level.LEVEL_4,
        added_by=batch.staff,
        outcome=Outcome.PASSED,
    )
    filing = ResultFiling.objects.create(plan=earlier, status=ResultStatus.SUBMITTED)
    # Results not yet accepted: the earlier batch is still open, so it counts as a duplicate.
    refused(batch, [student], f"已是评价计划#{earlier.pk}的考生")
    filing.status = ResultStatus.ACCEPTED
    filing.save()
    messages = refused(
        batch, [student], "学号S000001", "已通过「6-18-02-04 焊工」四级/中级工的评价", f"评价计划#{earlier.pk}"
    )
    assert len(messages) == 1  # not also called a duplicate: that batch is over
    # A failed candidate of accepted results may sit again.
    Candidate.objects.filter(plan=earlier).update(outcome=Outcome.FAILED)
    assert services.candidate_problems(batch.plan, student) == []


def test_already_certified_hook_is_consulted(batch, monkeypatch):
    student = batch.student(1)
    monkeypatch.setattr(services, "certified_id_numbers_hook", lambda **kw: {student.id_number})
    assert any("职业技能等级证书" in p for p in services.candidate_problems(batch.plan, student))


def test_barred_candidate_is_refused(batch):
    student = batch.student(1)
    barring = Barring.objects.create(
        kind=BarredKind.CANDIDATE,
        id_number=student.id_number,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 9),
        reason="考试作弊",
        decided_by=batch.centre,
    )
    assert services.candidate_problems(batch.plan, student) == []  # ended the day before the batch
    barring.ends_on = None
    barring.save()
    refused(batch, [student], "学号S000001", "被禁止参加职业技能等级评价", "本批次日期2026-12-10在禁止期内")
    Barring.objects.filter(pk=barring.pk).update(kind=BarredKind.STAFF, person=batch.staff)
    assert services.candidate_problems(batch.plan, student) == []


def test_only_the_schools_staff_change_the_list_while_the_plan_is_editable(batch):
    student = batch.student(1)
    outsider = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    with pytest.raises(PermissionDenied):
        services.candidates_add(plan=batch.plan, actor=outsider, students=[student])
    with pytest.raises(PermissionDenied):
        services.candidates_add(plan=batch.plan, actor=batch.centre, students=[student])
    [candidate] = services.candidates_add(plan=batch.plan, actor=batch.staff, students=[student])
    batch.plan.status = PlanStatus.SUBMITTED
    batch.plan.save()
    with pytest.raises(TransitionError, match="不能修改考生名单"):
        services.candidate_remove(plan=batch.plan, actor=batch.staff, candidate=candidate)
    batch.plan.status = PlanStatus.AMENDING  # a change to an accepted plan
    batch.plan.save()
    services.candidate_remove(plan=batch.plan, actor=batch.staff, candidate=candidate)
    assert not Candidate.objects.exists()
    assert Candidate.history.filter(history_type="-", history_user=batch.staff).count() == 1


def test_checking_a_list_takes_a_fixed_number_of_queries(batch, django_assert_max_num_queries):
    few = [batch.student(n) for n in range(1, 3)]
    many = [batch.student(n) for n in range(3, 43)]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for students in (few, many):
        with CaptureQueriesContext(connection) as ctx:
            checker = services.CandidateChecker.load(batch.plan, id_numbers=[s.id_number for s in students])
            assert services.list_problems(checker, students) == []
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= 8
