"""Results of a batch (notice annex §4.2–4.3): attendance, scores, the pass rule, substitution,
filing with the centre, its review, anomaly flags and what certificates are issued from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.models import (
    AssessmentMethod,
    Attendance,
    BatchRoom,
    BatchStaff,
    Duty,
    Outcome,
    ResultStatus,
    RoomPart,
    Score,
    StaffingStandard,
)
from assessments.services import results as service
from portal.models import Role
from portal.workflow import TransitionError
from tests import factories
from tests.assessments.test_results_builders import AFTER_BATCH, DUE, add_candidates, at, batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def after_batch():
    with time_machine.travel(AFTER_BATCH, tick=False):
        yield


def present_all(b, actor=None):
    entries = {c.pk: (Attendance.PRESENT, "") for c in b.candidates}
    service.attendance_record(plan=b.plan, actor=actor or b.staff, entries=entries)


def score_all(b, theory="80", practical="75", **per):
    typed = {c.pk: {"theory": theory, "practical": practical} for c in b.candidates}
    for pk, values in per.items():
        typed[int(pk)] = values
    return service.scores_save(plan=b.plan, actor=b.staff, typed=typed)


def outcomes(b):
    return [r.outcome for r in service.grid_rows(b.plan)]


# --- Attendance ------------------------------------------------------------------------------


def test_rule_a_cancelled_candidate_needs_a_reason(after_batch):
    b = batch(2)
    first, second = b.candidates
    with pytest.raises(ValidationError) as exc:
        service.attendance_record(
            plan=b.plan,
            actor=b.staff,
            entries={first.pk: (Attendance.PRESENT, ""), second.pk: (Attendance.CANCELLED, " ")},
        )
    assert any("取消资格须填写原因" in m and second.student.student_number in m for m in exc.value.messages)
    first.refresh_from_db()
    assert first.attendance == Attendance.EXPECTED  # all or nothing
    service.attendance_record(
        plan=b.plan,
        actor=b.staff,
        entries={first.pk: (Attendance.PRESENT, ""), second.pk: (Attendance.CANCELLED, "替考")},
    )
    second.refresh_from_db()
    assert (second.attendance, second.attendance_reason) == (Attendance.CANCELLED, "替考")


def test_rule_attendance_is_not_recorded_before_the_batch_starts():
    b = batch(1)
    with (
        time_machine.travel(at(dt.date(2026, 12, 3), 8), tick=False),
        pytest.raises(TransitionError, match="评价尚未开始"),
    ):
        present_all(b)
    with time_machine.travel(at(dt.date(2026, 12, 3), 10), tick=False):
        present_all(b)
    b.candidates[0].refresh_from_db()
    assert b.candidates[0].attendance == Attendance.PRESENT


def test_rule_attendance_needs_an_accepted_plan(after_batch):
    b = batch(1)
    b.plan.status = "submitted"
    b.plan.save(update_fields=["status"])
    b.plan.snapshots.all().delete()
    with pytest.raises(TransitionError, match="尚未备案通过"):
        present_all(b)


def test_attendance_by_school_staff_or_the_internal_supervisor_only(after_batch):
    b = batch(1)
    outsider = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    for who in (outsider, b.centre, factories.user(Role.EXPERT)):
        with pytest.raises(PermissionDenied):
            present_all(b, actor=who)
    present_all(b, actor=b.supervisor)
    b.candidates[0].refresh_from_db()
    assert b.candidates[0].attendance == Attendance.PRESENT


def test_the_internal_supervisors_report_is_kept_on_the_filing(after_batch):
    b = batch(1)
    with pytest.raises(PermissionDenied):
        service.internal_report_save(plan=b.plan, actor=b.staff, text="报告")
    with pytest.raises(ValidationError):
        service.internal_report_save(plan=b.plan, actor=b.supervisor, text="  ")
    filing = service.internal_report_save(plan=b.plan, actor=b.supervisor, text="考场秩序良好，无违纪。")
    filing.refresh_from_db()
    assert filing.internal_report == "考场秩序良好，无违纪。" and filing.internal_report_by == b.supervisor


# --- Scores and the pass rule ----------------------------------------------------------------


def test_rule_each_part_passes_at_the_pass_mark_and_not_below(after_batch):
    b = batch(3)
    present_all(b)
    a, c, d = b.candidates
    score_all(
        b,
        **{
            str(a.pk): {"theory": "60", "practical": "60"},
            str(c.pk): {"theory": "59.9", "practical": "100"},
            str(d.pk): {"theory": "100", "practical": "59.9"},
        },
    )
    assert outcomes(b) == [Outcome.PASSED, Outcome.FAILED, Outcome.FAILED]


def test_rule_the_pass_mark_comes_from_the_occupations_standard(after_batch):
    b = batch(1)
    present_all(b)
    score_all(b, theory="65", practical="65")
    assert outcomes(b) == [Outcome.PASSED]
    StaffingStandard.objects.create(occupation=None, pass_mark=60, full_mark=100)
    StaffingStandard.objects.create(occupation=b.plan.occupation.occupation, pass_mark=70, full_mark=150)
    assert service.standard_for(b.plan).pass_mark == 70
    assert outcomes(b) == [Outcome.FAILED]
    score_all(b, theory="140", practical="70")  # within this standard's 150
    assert outcomes(b) == [Outcome.PASSED]


def test_rule_the_common_standard_applies_without_an_occupation_row(after_batch):
    b = batch(1)
    assert (service.standard_for(b.plan).full_mark, service.standard_for(b.plan).pass_mark) == (100, 60)
    StaffingStandard.objects.create(occupation=None, pass_mark=75)
    assert service.standard_for(b.plan).pass_mark == 75


def test_rule_scores_are_within_zero_and_full_mark_with_one_decimal(after_batch):
    b = batch(1)
    present_all(b)
    (c,) = b.candidates
    for bad, rule in (("101", "0至100"), ("-1", "0至100"), ("80.25", "一位小数"), ("八十", "不是数字")):
        with pytest.raises(ValidationError) as exc:
            service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"theory": bad, "practical": "70"}})
        (message,) = exc.value.messages
        assert rule in message and c.student.student_number in message and "理论考试" in message
    assert not Score.objects.exists()


def test_rule_saving_the_grid_is_all_or_nothing(after_batch):
    b = batch(2)
    present_all(b)
    first, second = b.candidates
    with pytest.raises(ValidationError):
        service.scores_save(
            plan=b.plan,
            actor=b.staff,
            typed={first.pk: {"theory": "88", "practical": "90"}, second.pk: {"theory": "88", "practical": "190"}},
        )
    assert not Score.objects.exists()


def test_rule_absent_and_cancelled_candidates_are_carried_through_without_scores(after_batch):
    b = batch(3)
    a, absent, cancelled = b.candidates
    service.attendance_record(
        plan=b.plan,
        actor=b.staff,
        entries={
            a.pk: (Attendance.PRESENT, ""),
            absent.pk: (Attendance.ABSENT, "病假"),
            cancelled.pk: (Attendance.CANCELLED, "携带资料"),
        },
    )
    with pytest.raises(ValidationError, match="缺考"):
        service.scores_save(plan=b.plan, actor=b.staff, typed={absent.pk: {"theory": "70", "practical": "70"}})
    service.scores_save(plan=b.plan, actor=b.staff, typed={a.pk: {"theory": "70", "practical": "70"}})
    assert outcomes(b) == [Outcome.PASSED, Outcome.ABSENT, Outcome.CANCELLED]


def test_rule_process_assessment_scores_each_module(after_batch):
    b = batch(1, method=AssessmentMethod.PROCESS, modules=("M1", "M2"))
    present_all(b)
    (c,) = b.candidates
    assert [p.code for p in service.parts_of(b.plan)] == ["M1", "M2"]
    service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"M1": "90", "M2": "61"}})
    assert outcomes(b) == [Outcome.PASSED]


def test_rule_the_course_score_replaces_theory_where_the_plan_allows_it(after_batch):
    b = batch(2, substitution=True)
    with_course, without = b.candidates
    with_course.course_score = Decimal("72.5")
    with_course.save()
    present_all(b)
    service.scores_save(
        plan=b.plan,
        actor=b.staff,
        typed={with_course.pk: {"theory": "10", "practical": "80"}, without.pk: {"theory": "66", "practical": "80"}},
    )
    theory = Score.objects.get(candidate=with_course, part="theory")
    assert (theory.value, theory.substituted) == (Decimal("72.5"), True)  # what was typed is not used
    assert not Score.objects.get(candidate=without, part="theory").substituted
    assert outcomes(b) == [Outcome.PASSED, Outcome.PASSED]


def test_rule_no_substitution_where_the_plan_does_not_allow_it(after_batch):
    b = batch(1)
    (c,) = b.candidates
    c.course_score = Decimal("90")
    c.save()
    present_all(b)
    service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "50", "practical": "80"}})
    assert Score.objects.get(candidate=c, part="theory").value == Decimal("50")
    assert outcomes(b) == [Outcome.FAILED]


def test_only_the_schools_staff_enter_scores(after_batch):
    b = batch(1)
    present_all(b)
    for who in (b.centre, b.supervisor):
        with pytest.raises(PermissionDenied):
            service.scores_save(plan=b.plan, actor=who, typed={b.candidates[0].pk: {"theory": "70"}})


# --- Filing and review -----------------------------------------------------------------------


def test_rule_results_are_submitted_with_attendance_for_everyone_and_every_part_scored(after_batch):
    b = batch(3)
    a, c, d = b.candidates
    with pytest.raises(TransitionError) as exc:
        service.results_submit(plan=b.plan, actor=b.staff)
    assert sum("尚未登记考试情况" in m for m in exc.value.messages) == 3
    service.attendance_record(
        plan=b.plan,
        actor=b.staff,
        entries={a.pk: (Attendance.PRESENT, ""), c.pk: (Attendance.PRESENT, ""), d.pk: (Attendance.ABSENT, "")},
    )
    service.scores_save(plan=b.plan, actor=b.staff, typed={a.pk: {"theory": "70", "practical": "70"}})
    service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "70", "practical": ""}})
    with pytest.raises(TransitionError) as exc:
        service.results_submit(plan=b.plan, actor=b.staff)
    assert exc.value.messages == [f"考生{c.student.student_number} {c.student.name}缺少成绩：实操考核。"]
    service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "70", "practical": "50"}})
    filing = service.results_submit(plan=b.plan, actor=b.staff)
    assert (filing.status, filing.round, filing.late) == (ResultStatus.SUBMITTED, 1, False)
    assert filing.first_submitted_at is not None
    with pytest.raises(TransitionError):  # submitted: the grid is closed
        service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "70", "practical": "90"}})


def test_rule_a_late_filing_stays_late_after_a_later_resubmission(after_batch):
    b = batch(1)
    present_all(b)
    score_all(b)
    with time_machine.travel(at(DUE + dt.timedelta(days=1)), tick=False):
        filing = service.results_submit(plan=b.plan, actor=b.staff)
        assert filing.late
        first = filing.first_submitted_at
        service.results_return(plan=b.plan, actor=b.centre, comment="请核对实操成绩")
    b.plan.refresh_from_db()
    b.plan.results_due_on = DUE + dt.timedelta(days=30)  # even were the due day later now
    b.plan.save(update_fields=["results_due_on"])
    with time_machine.travel(at(DUE + dt.timedelta(days=2)), tick=False):
        filing = service.results_submit(plan=b.plan, actor=b.staff)
    filing.refresh_from_db()
    assert filing.late and filing.round == 2 and filing.first_submitted_at == first


def test_rule_a_filing_on_the_due_day_is_not_late(after_batch):
    b = batch(1)
    assert b.plan.results_due_on == DUE
    present_all(b)
    score_all(b)
    with time_machine.travel(at(DUE, 17), tick=False):
        assert not service.results_submit(plan=b.plan, actor=b.staff).late


def test_rule_only_the_centre_returns_or_accepts_results(after_batch):
    b = batch(1)
    present_all(b)
    score_all(b)
    with pytest.raises(TransitionError, match="待报送"):  # the centre's step, but nothing filed yet
        service.results_accept(plan=b.plan, actor=b.centre)
    service.results_submit(plan=b.plan, actor=b.staff)
    district = factories.user(Role.DISTRICT_HR_OFFICER)
    for who in (b.staff, district, factories.user(Role.MUNICIPAL_HR_OFFICER)):
        with pytest.raises(PermissionDenied):
            service.results_accept(plan=b.plan, actor=who)
        with pytest.raises(PermissionDenied):
            service.results_return(plan=b.plan, actor=who, comment="退回")
    with pytest.raises(ValidationError):
        service.results_return(plan=b.plan, actor=b.centre, comment=" ")
    filing = service.results_return(plan=b.plan, actor=b.centre, comment="请核对")
    assert filing.status == ResultStatus.RETURNED
    score_all(b, practical="85")  # returned: editable again
    service.results_submit(plan=b.plan, actor=b.staff)
    filing = service.results_accept(plan=b.plan, actor=b.centre)
    assert filing.status == ResultStatus.ACCEPTED and filing.accepted_at is not None
    assert list(filing.events.values_list("action", "round")) == [
        ("submit", 1),
        ("return", 1),
        ("submit", 2),
        ("accept", 2),
    ]
    with pytest.raises(TransitionError):
        service.results_accept(plan=b.plan, actor=b.centre)


def test_rule_outcomes_are_frozen_when_the_results_are_accepted(after_batch):
    b = batch(2)
    a, c = b.candidates
    service.attendance_record(
        plan=b.plan, actor=b.staff, entries={a.pk: (Attendance.PRESENT, ""), c.pk: (Attendance.ABSENT, "")}
    )
    service.scores_save(plan=b.plan, actor=b.staff, typed={a.pk: {"theory": "70", "practical": "70"}})
    service.results_submit(plan=b.plan, actor=b.staff)
    a.refresh_from_db()
    assert a.outcome == Outcome.PENDING
    service.results_accept(plan=b.plan, actor=b.centre)
    a.refresh_from_db()
    c.refresh_from_db()
    assert (a.outcome, c.outcome) == (Outcome.PASSED, Outcome.ABSENT)
    StaffingStandard.objects.create(occupation=None, pass_mark=80)  # a later change of standard
    a.refresh_from_db()
    assert a.outcome == Outcome.PASSED


def test_rule_certificates_come_from_accepted_results_only(after_batch):
    b = batch(2)
    present_all(b)
    a, c = b.candidates
    score_all(b, **{str(c.pk): {"theory": "40", "practical": "70"}})
    assert list(service.passed_candidates(b.plan)) == []
    service.results_submit(plan=b.plan, actor=b.staff)
    assert list(service.passed_candidates(b.plan)) == []
    service.results_return(plan=b.plan, actor=b.centre, comment="核对")
    assert list(service.passed_candidates(b.plan)) == []
    service.results_submit(plan=b.plan, actor=b.staff)
    service.results_accept(plan=b.plan, actor=b.centre)
    assert list(service.passed_candidates(b.plan)) == [a]


# --- Anomaly flags ---------------------------------------------------------------------------


def test_a_normal_batch_raises_no_anomaly(after_batch):
    b = batch(4)
    present_all(b)
    a, c, d, e = b.candidates
    score_all(
        b,
        **{
            str(a.pk): {"theory": "71", "practical": "80"},
            str(c.pk): {"theory": "72", "practical": "80"},
            str(d.pk): {"theory": "73", "practical": "55"},
            str(e.pk): {"theory": "74", "practical": "80"},
        },
    )
    assert service.anomalies(b.plan) == []


def test_anomaly_identical_score_patterns_name_the_candidates(after_batch):
    b = batch(4)
    present_all(b)
    a, c, d, e = b.candidates
    score_all(b, theory="77", practical="88", **{str(e.pk): {"theory": "70", "practical": "88"}})
    (flag,) = service.anomalies(b.plan)
    assert "3名考生各部分成绩完全相同" in flag and "理论考试77.0" in flag
    for c_ in (a, c, d):
        assert c_.student.student_number in flag
    assert e.student.student_number not in flag


def test_anomaly_a_full_pass_rate_in_a_large_batch(after_batch, settings):
    settings.PORTAL_RESULTS_IDENTICAL_MIN = 1000  # this test looks at the pass rate only
    b = batch(30)
    present_all(b)
    typed = {c.pk: {"theory": str(60 + i), "practical": "80"} for i, c in enumerate(b.candidates)}
    service.scores_save(plan=b.plan, actor=b.staff, typed=typed)
    assert any("合格率100%" in m and "30名" in m for m in service.anomalies(b.plan))
    settings.PORTAL_RESULTS_LARGE_BATCH = 31  # configurable
    assert service.anomalies(b.plan) == []
    settings.PORTAL_RESULTS_LARGE_BATCH = 30
    service.scores_save(plan=b.plan, actor=b.staff, typed={b.candidates[0].pk: {"theory": "59", "practical": "80"}})
    assert service.anomalies(b.plan) == []


def test_anomaly_scores_entered_after_the_due_date(after_batch):
    b = batch(2)
    present_all(b)
    a, c = b.candidates
    service.scores_save(plan=b.plan, actor=b.staff, typed={a.pk: {"theory": "70", "practical": "81"}})
    with time_machine.travel(at(DUE + dt.timedelta(days=1)), tick=False):
        service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "90", "practical": "62"}})
    (flag,) = service.anomalies(b.plan)
    assert "截止日2026-12-10之后录入" in flag and c.student.student_number in flag
    assert a.student.student_number not in flag


def test_anomaly_candidates_not_in_the_accepted_plan(after_batch):
    b = batch(1)
    (late,) = add_candidates(b, 1)
    present_all(b)
    score_all(b, **{str(late.pk): {"theory": "66", "practical": "67"}})
    (flag,) = service.anomalies(b.plan)
    assert "不在已备案的评价计划中" in flag and late.student.student_number in flag
    assert b.candidates[0].student.student_number not in flag


def test_anomaly_staff_not_in_the_accepted_plan(after_batch):
    b = batch(1)
    present_all(b)
    score_all(b)
    stranger = factories.user(Role.EXPERT)
    BatchStaff.objects.create(plan=b.plan, person=stranger, duty=Duty.INTERNAL_SUPERVISOR, added_by=b.staff)
    (flag,) = service.anomalies(b.plan)
    assert "考务人员不在已备案的评价计划中" in flag and stranger.full_name in flag


def test_anomaly_an_examiner_over_the_ratio(after_batch):
    b = batch(1)
    present_all(b)
    score_all(b)
    room = BatchRoom.objects.create(
        plan=b.plan,
        room=b.plan.site.rooms.first(),
        part=RoomPart.PRACTICAL,
        starts_at=at(dt.date(2026, 12, 3), 13),
        ends_at=at(dt.date(2026, 12, 3), 16),
        candidates_expected=16,
    )
    examiners = [factories.user(Role.EXPERT) for _ in range(3)]
    with time_machine.travel(at(dt.date(2026, 11, 26), 8), tick=False):  # filed with the plan
        for person in examiners:
            BatchStaff.objects.create(plan=b.plan, person=person, duty=Duty.EXAMINER, room=room, added_by=b.staff)
    (flag,) = service.anomalies(b.plan)
    assert room.room.name in flag and "考生16名、考评人员3名" in flag and "5名考生" in flag
    BatchRoom.objects.filter(pk=room.pk).update(candidates_expected=15)
    assert service.anomalies(b.plan) == []


def test_rule_a_course_score_outside_the_full_mark_cannot_replace_theory(after_batch):
    b = batch(1, substitution=True)
    (c,) = b.candidates
    c.course_score = Decimal("120")
    c.save()
    present_all(b)
    score_all(b)
    with pytest.raises(TransitionError, match="不能替代理论考试成绩"):
        service.results_submit(plan=b.plan, actor=b.staff)


def test_rule_a_withdrawn_course_score_no_longer_stands_in_for_theory(after_batch):
    b = batch(1, substitution=True)
    (c,) = b.candidates
    c.course_score = Decimal("75")
    c.save()
    present_all(b)
    service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"practical": "80"}})
    assert Score.objects.get(candidate=c, part="theory").substituted
    type(c).objects.filter(pk=c.pk).update(course_score=None)
    service.scores_save(plan=b.plan, actor=b.staff, typed={c.pk: {"practical": "80"}})
    assert not Score.objects.filter(candidate=c, part="theory").exists()
    with pytest.raises(TransitionError, match="缺少成绩：理论考试"):
        service.results_submit(plan=b.plan, actor=b.staff)
