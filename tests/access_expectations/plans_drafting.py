"""Editing a plan (/assessments/<pk>/edit/, modules): the school's own staff only, while editable."""

from __future__ import annotations

from assessments.models import AssessmentMethod, PlanModule
from portal.access import CITYWIDE_ROLES
from portal.models import Role
from tests.access_expectations import Post, Writes
from tests.access_expectations.plans_assessments import _plan

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CITY = {str(r) for r in CITYWIDE_ROLES}
ASSIGNABLE = {Role.EXPERT.value, Role.QUALITY_SUPERVISOR.value}


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


# Drafts are the school's own: everyone else is out of scope (404), whatever their role.
DRAFT_ONLY_STAFF = {r: 404 for r in Role.values if r != STAFF}
# A filed plan: readers see it (so the school-staff check answers 403), others do not (404).
FILED = {**{r: 403 for r in CITY | {Role.DISTRICT_HR_OFFICER.value}}, **{r: 404 for r in ASSIGNABLE}}

EXPECTATIONS = {
    "assessments:plan_edit": ("drafting_plan", _for(200, {STAFF}, **DRAFT_ONLY_STAFF)),
    # POST only: a GET is 405 for everyone signed in, before any scope is looked at.
    "assessments:module_add": ("drafting_plan", _for(405, set(Role.values))),
    "assessments:module_remove": ("drafting_module", _for(405, set(Role.values))),
}

OUT_OF_SCOPE = {
    # A filed plan: the school sees it but may not edit it in place (a message and back: 302).
    "assessments:plan_edit": ("drafting_filed_plan", _for(302, {STAFF}, **FILED)),
}


def _edit_body(objects: dict) -> dict:
    p = objects["drafting_plan_obj"]
    return {
        "site": p.site_id,
        "method": AssessmentMethod.PROCESS,
        "starts_at": p.starts_at.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": p.ends_at.strftime("%Y-%m-%dT18:00"),
    }


POST_EXPECTATIONS = {
    "assessments:plan_edit": [Post("drafting_plan", _for(Writes(302), {STAFF}, **DRAFT_ONLY_STAFF), data=_edit_body)],
    "assessments:module_add": [
        Post(
            "drafting_plan",
            _for(Writes(302), {STAFF}, **DRAFT_ONLY_STAFF),
            data={"code": "M9", "name": "焊后检验", "course": "焊接质量检验"},
        )
    ],
    "assessments:module_remove": [Post("drafting_module", _for(Writes(302), {STAFF}, **DRAFT_ONLY_STAFF))],
}


def build_objects(objects, people) -> dict:
    from assessments.models import EvaluationPlan

    staff = people[Role.SCHOOL_STAFF]
    draft = _plan(objects["institution"], staff, objects["plan_site"])
    EvaluationPlan.objects.filter(pk=draft.pk).update(method=AssessmentMethod.PROCESS)
    module = PlanModule.objects.create(plan=draft, code="M1", name="焊前准备", course="焊接工艺")
    filed = _plan(objects["institution"], staff, objects["plan_site"], submit=True)
    return {
        "drafting_plan_obj": draft,
        "drafting_plan": draft,
        "drafting_module": {"pk": draft.pk, "module_pk": module.pk},
        "drafting_filed_plan": filed,
    }
