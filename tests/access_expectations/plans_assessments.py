"""Evaluation plans (/assessments/): every URL as every role.

School staff plan for their own institution (drafts included); the city-wide authorities read
every filed plan and the centre decides; the district bureau reads its district's filed plans;
experts and quality supervisors have no part yet (403). Named ``plans_…`` so that it is built
after the directory module, whose institutions it plans for.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from assessments import services
from assessments.models import AssessmentMethod
from institutions.models import AssessmentSite, ExamRoom, FilingApplication
from portal.access import CITYWIDE_ROLES
from portal.models import CalendarYear, Role
from schools.models import Level
from tests import factories
from tests.access_expectations import READ_ONLY, Post, Writes

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
CITY = {str(r) for r in CITYWIDE_ROLES}
READERS = CITY | {STAFF, DISTRICT}
ASSIGNABLE = {Role.EXPERT.value, Role.QUALITY_SUPERVISOR.value}  # see only batches they are on


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


DRAFT_HIDDEN = {r: 404 for r in CITY | {DISTRICT} | ASSIGNABLE}  # drafts are the school's own
UNASSIGNED = {r: 404 for r in ASSIGNABLE}

EXPECTATIONS = {
    "assessments:plan_list": (None, _for(200, READERS | ASSIGNABLE)),
    "assessments:plan_create": (None, _for(200, {STAFF})),
    "assessments:plan_detail": ("submitted_plan", _for(200, READERS, **UNASSIGNED)),
    "assessments:plan_act": ("draft_plan_submit", _for(200, {STAFF}, **DRAFT_HIDDEN)),
}

OUT_OF_SCOPE = {
    # Another district's school: its staff and district bureau do not see the plan.
    "assessments:plan_detail": (
        "other_submitted_plan",
        _for(200, READERS, **UNASSIGNED, **{STAFF: 404, DISTRICT: 404}),
    ),
}


def _plan_body(objects: dict) -> dict:
    start = timezone.localtime() + dt.timedelta(days=30)
    return {
        "occupation": _welding(objects["institution"]).pk,
        "level": Level.LEVEL_4,
        "site": objects["plan_site"].pk,
        "method": AssessmentMethod.RESULT,
        "starts_at": start.strftime("%Y-%m-%dT09:00"),
        "ends_at": start.strftime("%Y-%m-%dT17:00"),
    }


POST_EXPECTATIONS = {
    "assessments:plan_list": READ_ONLY,
    "assessments:plan_detail": READ_ONLY,
    "assessments:plan_create": [Post(None, _for(Writes(302), {STAFF}), data=_plan_body)],
    "assessments:plan_act": [
        Post("draft_plan_withdraw", _for(Writes(302), {STAFF}, **DRAFT_HIDDEN), data={"comment": ""}),
        Post(
            "submitted_plan_accept", _for(403, set(), **UNASSIGNED, **{CENTRE: Writes(302)}), data={"comment": "同意"}
        ),
        Post(
            "other_submitted_plan_accept",
            _for(403, set(), **UNASSIGNED, **{CENTRE: Writes(302), STAFF: 404, DISTRICT: 404}),
        ),
        Post("accepted_plan_accept", _for(403, set(), **UNASSIGNED, **{CENTRE: 409}), data={"comment": "再次"}),
        Post("draft_plan_unknown", _for(404, {STAFF}, **DRAFT_HIDDEN), note="no such step"),
    ],
}


def _welding(institution):
    return institution.occupations.get(occupation__code="6-18-02-04")


def _site(institution) -> AssessmentSite:
    site = AssessmentSite.objects.create(
        application=FilingApplication.objects.filter(school=institution.school).first(),
        institution=institution,
        name="站点",
        address="实训楼",
    )
    ExamRoom.objects.create(site=site, name="101", capacity=30, av_monitoring=True)
    return site


def _plan(institution, staff, site, *, submit: bool = False, accept_by=None):
    start = timezone.localtime() + dt.timedelta(days=30)
    CalendarYear.objects.get_or_create(year=start.year, defaults={"source": "test"})  # deadlines need the year
    plan = services.plan_create(
        institution=institution,
        actor=staff,
        occupation=_welding(institution),
        level=Level.LEVEL_4,
        site=site,
        method=AssessmentMethod.RESULT,
        starts_at=start.replace(hour=9, minute=0),
        ends_at=start.replace(hour=17, minute=0),
    )
    if submit:
        plan = services.plan_submit(plan=plan, actor=staff)
    if accept_by is not None:
        plan = services.plan_accept(plan=plan, actor=accept_by)
    return plan


def build_objects(objects, people) -> dict:
    inst, other = objects["institution"], objects["other_institution"]
    staff = people[Role.SCHOOL_STAFF]
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=other.school.organisation)
    site, other_site = _site(inst), _site(other)
    draft = _plan(inst, staff, site)
    submitted = _plan(inst, staff, site, submit=True)
    accepted = _plan(inst, staff, site, submit=True, accept_by=factories.user(Role.CENTRE_REVIEWER))
    other_submitted = _plan(other, other_staff, other_site, submit=True)
    return {
        "plan_site": site,
        "submitted_plan": submitted,
        "other_submitted_plan": other_submitted,
        "draft_plan_submit": {"pk": draft.pk, "action": "submit"},
        "draft_plan_withdraw": {"pk": draft.pk, "action": "withdraw"},
        "draft_plan_unknown": {"pk": draft.pk, "action": "approve"},
        "submitted_plan_accept": {"pk": submitted.pk, "action": "accept"},
        "other_submitted_plan_accept": {"pk": other_submitted.pk, "action": "accept"},
        "accepted_plan_accept": {"pk": accepted.pk, "action": "accept"},
    }
