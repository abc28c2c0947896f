"""A change to an accepted plan (issue 8 item 2): filed again, every filing kept as a snapshot, and
the centre sees what changed since the accepted version."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from assessments import services
from assessments.models import (
    Candidate,
    EvaluationPlan,
    PlanSnapshot,
    PlanStatus,
    RoomPart,
)
from assessments.services import staffing
from portal.workflow import TransitionError
from tests.assessments.test_staffing import TODAY, Batch, at
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def accepted(day: dt.date = dt.date(2026, 12, 10)) -> Batch:
    b = Batch(day=day)
    b.well_staffed()
    b.candidate(n=101)
    b.candidate(n=102)
    services.plan_submit(plan=b.plan, actor=b.staff)
    services.plan_accept(plan=b.plan, actor=b.cast.centre)
    b.plan.refresh_from_db()
    return b


def test_every_filing_keeps_a_snapshot_and_acceptance_marks_it():
    b = accepted()
    (snap,) = PlanSnapshot.objects.filter(plan=b.plan)
    assert snap.round == 1 and snap.accepted_at is not None
    data = snap.data
    assert (data["starts_at"], data["ends_at"], data["method"]) == ("2026-12-10 08:00", "2026-12-10 17:00", "result")
    assert [(r["room"], r["part"], r["candidates_expected"]) for r in data["rooms"]] == [
        ("301", "theory", 15),
        ("实训室A", "practical", 15),
    ]
    assert sorted(s["duty"] for s in data["staff"]) == ["examiner"] * 3 + ["internal_supervisor"] + ["invigilator"] * 2
    assert [c["number"] for c in data["candidates"]] == ["S000101", "S000102"]
    assert staffing.changes_since_accepted(b.plan) is None  # the plan is the accepted version


def test_a_change_to_an_accepted_plan_shows_what_changed_since_the_accepted_version():
    b = accepted()
    services.plan_amend(plan=b.plan, actor=b.staff, comment="更换考评人员")
    b.plan.refresh_from_db()
    assert b.plan.status == PlanStatus.AMENDING and b.plan.is_editable and b.plan.was_accepted
    assert staffing.changes_since_accepted(b.plan)["empty"]
    # Staff: one examiner out, another in; a theory room added with its invigilators; a candidate out, one in.
    practical = b.plan.rooms.get(part=RoomPart.PRACTICAL)
    leaving = practical.staff.order_by("id").first()
    staffing.staff_remove(staff=leaving, actor=b.staff)
    joining = b.put(practical, 1)[0]
    extra = b.room("302", RoomPart.THEORY, 9, 11, candidates=10)
    b.put(extra, 2)
    Candidate.objects.get(student__student_number="S000102").delete()
    b.candidate(n=103)
    EvaluationPlan.objects.filter(pk=b.plan.pk).update(ends_at=at(dt.date(2026, 12, 10), 18))
    b.plan.refresh_from_db()
    changes = staffing.changes_since_accepted(b.plan)
    assert changes["base_round"] == 1 and not changes["empty"]
    assert changes["fields"] == [("结束时间", "2026-12-10 17:00", "2026-12-10 18:00")]
    assert changes["rooms_added"] == ["「302」（理论考试，2026-12-10 09:00—2026-12-10 11:00，10人）"]
    assert changes["rooms_removed"] == [] and changes["rooms_changed"] == []
    assert (
        f"{leaving.person.full_name}（{leaving.person.username}） · 考评人员 · 实训室A（2026-12-10 13:00）"
        in (changes["staff_removed"])
    )
    assert any(joining.username in s and "考评人员" in s for s in changes["staff_added"])
    assert len(changes["staff_added"]) == 3
    assert changes["candidates_added"] == ["学生103（S000103）"]
    assert changes["candidates_removed"] == ["学生102（S000102）"]
    # Filed again as round 2; the centre's page shows the same changes; accepting makes it the version in force.
    services.plan_submit(plan=b.plan, actor=b.staff)
    b.plan.refresh_from_db()
    assert (b.plan.status, b.plan.round) == (PlanStatus.SUBMITTED, 2)
    page = client_for(b.cast.centre).get(reverse("assessments:plan_act", args=[b.plan.pk, "accept"]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="plan-changes"' in html
    assert "学生103（S000103）" in html and "「302」" in html and "2026-12-10 18:00" in html
    detail = client_for(b.cast.centre).get(reverse("assessments:plan_detail", args=[b.plan.pk])).content.decode()
    assert 'data-testid="plan-changes"' in detail and "学生102（S000102）" in detail
    services.plan_accept(plan=b.plan, actor=b.cast.centre)
    b.plan.refresh_from_db()
    assert b.plan.status == PlanStatus.ACCEPTED and staffing.changes_since_accepted(b.plan) is None
    assert list(b.plan.snapshots.filter(accepted_at__isnull=False).values_list("round", flat=True)) == [1, 2]


def test_a_returned_change_still_shows_the_changes_against_the_accepted_version():
    b = accepted()
    services.plan_amend(plan=b.plan, actor=b.staff)
    b.candidate(n=104)
    services.plan_submit(plan=b.plan, actor=b.staff)
    services.plan_return(plan=b.plan, actor=b.cast.centre, comment="新增考生须说明")
    b.plan.refresh_from_db()
    assert b.plan.status == PlanStatus.RETURNED
    changes = staffing.changes_since_accepted(b.plan)
    assert changes["base_round"] == 1 and changes["candidates_added"] == ["学生104（S000104）"]
    assert PlanSnapshot.objects.get(plan=b.plan, round=2).accepted_at is None


def test_the_lead_time_applies_to_a_change_only_when_it_moves_the_dates():
    # Thursday 26 Nov → Thursday 3 Dec: exactly 5 working days, filed and accepted.
    b = accepted(day=dt.date(2026, 12, 3))
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        services.plan_amend(plan=b.plan, actor=b.staff)
        b.put(b.plan.rooms.get(part=RoomPart.THEORY), 1)  # a third invigilator, two days before
        services.plan_submit(plan=b.plan, actor=b.staff)
        services.plan_accept(plan=b.plan, actor=b.cast.centre)
        # Moving the dates is a new date for the batch: the lead time counts again.
        services.plan_amend(plan=b.plan, actor=b.staff)
        EvaluationPlan.objects.filter(pk=b.plan.pk).update(ends_at=at(dt.date(2026, 12, 4), 17))
        with pytest.raises(TransitionError) as exc:
            services.plan_submit(plan=b.plan, actor=b.staff)
        assert any("至少5个工作日" in m for m in exc.value.messages)


def test_a_change_is_refused_to_others_and_after_the_batch_ends():
    b = accepted()
    with pytest.raises(PermissionDenied):
        services.plan_amend(plan=b.plan, actor=b.cast.centre)
    with time_machine.travel(dt.datetime(2026, 12, 11, 9, 0, tzinfo=dt.UTC), tick=False):
        with pytest.raises(TransitionError, match="评价已结束"):
            services.plan_amend(plan=b.plan, actor=b.staff)
    # Only an accepted plan is changed this way; a filed one is not.
    services.plan_amend(plan=b.plan, actor=b.staff)
    services.plan_submit(plan=b.plan, actor=b.staff)
    with pytest.raises(TransitionError):
        services.plan_amend(plan=b.plan, actor=b.staff)


def test_rooms_left_outside_moved_dates_are_named_before_filing():
    b = accepted()
    services.plan_amend(plan=b.plan, actor=b.staff)
    EvaluationPlan.objects.filter(pk=b.plan.pk).update(ends_at=at(dt.date(2026, 12, 10), 12))
    problems = b.problems()
    assert problems == [
        "考场「实训室A」（实操考核，12-10 13:00–16:00）的时间不在本批次时间2026-12-10 08:00—2026-12-10 12:00之内"
        "（规则：考场时间在批次时间之内）。"
    ]
