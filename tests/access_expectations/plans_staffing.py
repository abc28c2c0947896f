"""Rooms and staff of a batch, and the centre's staffing standards: every URL as every role.

The school's staff change rooms and staff of their own plans while a plan is editable (a filed
one: 409); everyone else who sees the batch may read it but not change it (403); drafts and
other schools' plans are out of scope (404). Staffing standards are the centre reviewer's own.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from assessments.models import BatchRoom, BatchStaff, Candidate, Duty, RoomPart, StaffingStandard
from institutions.models import ExamRoom
from portal.access import CITYWIDE_ROLES
from portal.models import Occupation, Role
from tests import factories
from tests.access_expectations import READ_ONLY, Post, Writes
from tests.access_expectations.plans_assessments import _plan, _site, _welding

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
CITY = {str(r) for r in CITYWIDE_ROLES}
ASSIGNABLE = {Role.EXPERT.value, Role.QUALITY_SUPERVISOR.value}


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


DRAFT_HIDDEN = {r: 404 for r in CITY | {DISTRICT} | ASSIGNABLE}  # drafts are the school's own
ONLY_STAFF = _for(200, {STAFF}, **DRAFT_HIDDEN)
# Another district's school's filed plan: the city reads it (403 to change), its staff and bureau not at all.
OTHER = _for(403, set(), **{STAFF: 404, DISTRICT: 404}, **{r: 404 for r in ASSIGNABLE})
# The school's own filed plan: no longer editable (409); readers may not change it (403).
FILED = _for(403, set(), **{STAFF: 409}, **{r: 404 for r in ASSIGNABLE})
CENTRE_ONLY = _for(200, {CENTRE})

EXPECTATIONS = {
    "assessments:staffing_room_add": ("staffing_draft", ONLY_STAFF),
    "assessments:staffing_room_remove": ("staffing_draft_room", ONLY_STAFF),
    "assessments:staffing_staff_add": ("staffing_draft", ONLY_STAFF),
    "assessments:staffing_staff_remove": ("staffing_draft_staff", ONLY_STAFF),
    # Only an examiner of the batch declares a conflict (the school user is one on the filed plan).
    "assessments:staffing_conflict_declare": ("staffing_filed", _for(200, {STAFF}, **{r: 404 for r in ASSIGNABLE})),
    "assessments:standard_list": (None, CENTRE_ONLY),
    "assessments:standard_create": (None, CENTRE_ONLY),
    "assessments:standard_edit": ("staffing_standard", CENTRE_ONLY),
}

OUT_OF_SCOPE = {
    "assessments:staffing_room_add": ("staffing_other", OTHER),
    "assessments:staffing_room_remove": ("staffing_other_room", OTHER),
    "assessments:staffing_staff_add": ("staffing_other", OTHER),
    "assessments:staffing_staff_remove": ("staffing_other_staff", OTHER),
}


def _room_body(objects: dict) -> dict:
    start = timezone.localtime(objects["staffing_draft_plan"].starts_at)
    return {
        "room": objects["staffing_room"].pk,
        "part": RoomPart.PRACTICAL,
        "starts_at": start.strftime("%Y-%m-%dT13:00"),
        "ends_at": start.strftime("%Y-%m-%dT15:00"),
        "candidates_expected": 10,
    }


def _staff_body(objects: dict) -> dict:
    return {"duty": Duty.INTERNAL_SUPERVISOR, "person": objects["staffing_person"].pk}


STANDARD_BODY = {
    "theory_candidates_per_invigilator": 20,
    "theory_min_invigilators": 2,
    "practical_candidates_per_examiner": 5,
    "practical_min_examiners": 3,
    "practical_examiners_odd": "on",
    "full_mark": 100,
    "pass_mark": 60,
    "source": "测试标准",
}


def _new_standard_body(objects: dict) -> dict:
    return {**STANDARD_BODY, "occupation": objects["staffing_occupation"].pk}


POST_EXPECTATIONS = {
    "assessments:staffing_room_add": [
        Post("staffing_draft", _for(Writes(302), {STAFF}, **DRAFT_HIDDEN), data=_room_body),
        Post("staffing_filed", FILED, data=_room_body),
        Post("staffing_other", OTHER, data=_room_body),
    ],
    "assessments:staffing_room_remove": [
        Post("staffing_draft_room", _for(Writes(302), {STAFF}, **DRAFT_HIDDEN)),
        Post("staffing_filed_room", FILED),
        Post("staffing_other_room", OTHER),
    ],
    "assessments:staffing_staff_add": [
        Post("staffing_draft", _for(Writes(302), {STAFF}, **DRAFT_HIDDEN), data=_staff_body),
        Post("staffing_filed", FILED, data=_staff_body),
        Post("staffing_other", OTHER, data=_staff_body),
    ],
    "assessments:staffing_staff_remove": [
        Post("staffing_draft_staff", _for(Writes(302), {STAFF}, **DRAFT_HIDDEN)),
        Post("staffing_filed_staff", FILED),
        Post("staffing_other_staff", OTHER),
    ],
    "assessments:staffing_conflict_declare": [
        Post(
            "staffing_filed",
            _for(Writes(302), {STAFF}, **{r: 404 for r in ASSIGNABLE}),
            data=lambda o: {"candidate": o["staffing_candidate"].pk, "reason": "亲属"},
        ),
        Post("staffing_other", OTHER, data=lambda o: {"candidate": o["staffing_candidate"].pk, "reason": "亲属"}),
    ],
    "assessments:standard_list": READ_ONLY,
    "assessments:standard_create": [
        Post(None, _for(Writes(302), {CENTRE}), data=_new_standard_body),
        Post(None, _for(200, {CENTRE}), data={**STANDARD_BODY, "pass_mark": 120}, note="the form again"),
    ],
    "assessments:standard_edit": [Post("staffing_standard", _for(Writes(302), {CENTRE}), data=STANDARD_BODY)],
}


def _room_with_staff(plan, room: ExamRoom, person, actor, hour: int) -> tuple[BatchRoom, BatchStaff]:
    """Written directly: the filed plans no longer take changes through the services."""
    start = timezone.localtime(plan.starts_at).replace(hour=hour, minute=0)
    batch_room = BatchRoom.objects.create(
        plan=plan,
        room=room,
        part=RoomPart.THEORY,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        candidates_expected=5,
    )
    row = BatchStaff.objects.create(plan=plan, person=person, duty=Duty.INVIGILATOR, room=batch_room, added_by=actor)
    return batch_room, row


def build_objects(objects, people) -> dict:
    inst, other = objects["institution"], objects["other_institution"]
    staff = people[Role.SCHOOL_STAFF]
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=other.school.organisation)
    site, other_site = _site(inst), _site(other)
    room = site.rooms.get()
    draft = _plan(inst, staff, site)
    filed = _plan(inst, staff, site, submit=True)
    other_filed = _plan(other, other_staff, other_site, submit=True)
    person = factories.user(Role.SCHOOL_STAFF, organisation=inst.school.organisation)
    draft_room, draft_staff = _room_with_staff(draft, room, person, staff, 9)
    filed_room, filed_staff = _room_with_staff(filed, room, person, staff, 11)
    other_room, other_row = _room_with_staff(other_filed, other_site.rooms.get(), other_staff, other_staff, 9)
    examining = BatchRoom.objects.create(
        plan=filed,
        room=room,
        part=RoomPart.PRACTICAL,
        starts_at=filed_room.starts_at + dt.timedelta(hours=4),  # 15:00, after the 13:00–15:00 room posted
        ends_at=filed_room.starts_at + dt.timedelta(hours=5),
        candidates_expected=5,
    )
    BatchStaff.objects.create(plan=filed, person=staff, duty=Duty.EXAMINER, room=examining, added_by=staff)
    candidate = Candidate.objects.create(
        plan=filed,
        student=factories.student(factories.major(inst.school)),
        occupation=filed.occupation.occupation,
        level=filed.level,
        added_by=staff,
    )
    welding = _welding(inst).occupation
    standard = StaffingStandard.objects.create(occupation=welding, source="焊工")
    spare = Occupation.objects.filter(kind="skill", is_active=True, staffing_standard__isnull=True).first()
    return {
        "staffing_room": room,
        "staffing_person": factories.user(Role.SCHOOL_STAFF, organisation=inst.school.organisation),
        "staffing_draft_plan": draft,
        "staffing_draft": draft,
        "staffing_filed": filed,
        "staffing_other": other_filed,
        "staffing_draft_room": {"pk": draft.pk, "room_pk": draft_room.pk},
        "staffing_filed_room": {"pk": filed.pk, "room_pk": filed_room.pk},
        "staffing_other_room": {"pk": other_filed.pk, "room_pk": other_room.pk},
        "staffing_draft_staff": {"pk": draft.pk, "staff_pk": draft_staff.pk},
        "staffing_filed_staff": {"pk": filed.pk, "staff_pk": filed_staff.pk},
        "staffing_other_staff": {"pk": other_filed.pk, "staff_pk": other_row.pk},
        "staffing_standard": standard,
        "staffing_candidate": candidate,
        "staffing_occupation": spare,
    }
