"""External quality supervision of batches and the batch list's export, as every role.

The centre, the municipal HR bureau (annex §4.2) and the district bureau of the school's district
assign and take off supervisors
(another district's bureau does not even see the batch: 404); the other city-wide roles, the
school and the supervisor read the batch but may not (403). Only the assigned supervisor records
visits, findings and the report (409 once the report is filed); only the school's staff answer a
required fix (409 for an irregularity). Evidence files download for whoever sees the batch.
Experts are on none of these batches (404). The export is the list's: every logged-in role, each
in its own scope.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assessments.services import supervision as services
from portal.access import CITYWIDE_ROLES
from portal.models import Role
from tests import factories
from tests.access_expectations import READ_ONLY, Post, Writes
from tests.access_expectations.plans_assessments import _plan, _site

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
HR = Role.MUNICIPAL_HR_OFFICER.value  # annex §4.2: the municipal bureau supervises too
SUPERVISOR = Role.QUALITY_SUPERVISOR.value
EXPERT = Role.EXPERT.value
CITY = {str(r) for r in CITYWIDE_ROLES}
SEES_BATCH = CITY | {STAFF, DISTRICT, SUPERVISOR}  # the supervisor is assigned to these batches
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _for(ok: int, roles: set[str], **codes: int) -> dict[str, int]:
    """``ok`` for ``roles``; 403 for the others who see the batch; 404 for those who do not."""
    out = {r: (ok if r in roles else 403 if r in SEES_BATCH else 404) for r in Role.values}
    return {**out, **codes, ANON: 302}


OTHER_DISTRICT = {STAFF: 404, DISTRICT: 404, SUPERVISOR: 404}  # the other district's batch, not assigned

EXPECTATIONS = {
    "assessments:plan_list_export": (None, {**{r: 200 for r in Role.values}, ANON: 302}),
    "assessments:supervision_assign": ("sup_plan", _for(200, {CENTRE, HR, DISTRICT})),
    "assessments:supervision_unassign": ("sup_open", _for(200, {CENTRE, HR, DISTRICT})),
    "assessments:supervision_visit": ("sup_open", _for(200, {SUPERVISOR})),
    "assessments:supervision_finding": ("sup_open", _for(200, {SUPERVISOR})),
    "assessments:supervision_report": ("sup_open", _for(200, {SUPERVISOR})),
    "assessments:supervision_answer": ("sup_fix", _for(200, {STAFF})),
    "assessments:supervision_evidence": ("sup_evidence", _for(200, SEES_BATCH)),
}

OUT_OF_SCOPE = {
    "assessments:supervision_assign": ("sup_other_plan", _for(200, {CENTRE, HR}, **OTHER_DISTRICT)),
    "assessments:supervision_visit": ("sup_other_assignment", _for(200, set(), **OTHER_DISTRICT)),
    "assessments:supervision_answer": ("sup_other_fix", _for(200, set(), **OTHER_DISTRICT)),
    "assessments:supervision_evidence": ("sup_other_evidence", _for(200, CITY, **OTHER_DISTRICT)),
}


def _assign_body(objects: dict) -> dict:
    return {"supervisor": objects["sup_spare"].pk}


def _visit_body(objects: dict) -> dict:
    return {"visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "notes": "抽查理论考场，秩序良好"}


def _finding_body(objects: dict) -> dict:
    return {
        "kind": "required_fix",
        "description": "监考人员不足，须补足",
        "files": [SimpleUploadedFile("现场.pdf", PDF, content_type="application/pdf")],
    }


def _for_post(ok, roles: set[str], **codes) -> dict[str, int]:
    return _for(ok, roles, **codes)


POST_EXPECTATIONS = {
    "assessments:plan_list_export": READ_ONLY,
    "assessments:supervision_evidence": READ_ONLY,
    "assessments:supervision_assign": [
        Post("sup_plan", _for_post(Writes(302), {CENTRE, HR, DISTRICT}), data=_assign_body),
        Post("sup_other_plan", _for_post(Writes(302), {CENTRE, HR}, **OTHER_DISTRICT), data=_assign_body),
        Post("sup_plan", _for_post(200, {CENTRE, HR, DISTRICT}), note="no supervisor chosen: the form again"),
    ],
    "assessments:supervision_unassign": [
        Post("sup_open", _for_post(Writes(302), {CENTRE, HR, DISTRICT})),
        Post("sup_recorded", _for_post(409, {CENTRE, HR, DISTRICT}), note="visits recorded: refused"),
    ],
    "assessments:supervision_visit": [
        Post("sup_open", _for_post(Writes(302), {SUPERVISOR}), data=_visit_body),
        Post("sup_recorded", _for_post(409, {SUPERVISOR}), data=_visit_body, note="report filed: read-only"),
        Post("sup_other_assignment", _for_post(403, set(), **OTHER_DISTRICT), data=_visit_body),
    ],
    "assessments:supervision_finding": [
        Post("sup_open", _for_post(Writes(302), {SUPERVISOR}), data=_finding_body),
        Post("sup_recorded", _for_post(409, {SUPERVISOR}), data=_finding_body, note="report filed: read-only"),
    ],
    "assessments:supervision_report": [
        Post("sup_open", _for_post(Writes(302), {SUPERVISOR}), data={"report": "本批次总体规范。"}),
        Post("sup_recorded", _for_post(409, {SUPERVISOR}), data={"report": "改写"}, note="filed once"),
    ],
    "assessments:supervision_answer": [
        Post("sup_fix", _for_post(Writes(302), {STAFF}), data={"answer": "已增派监考人员"}),
        Post("sup_irregularity", _for_post(409, {STAFF}), data={"answer": "x"}, note="only required fixes"),
        Post("sup_other_fix", _for_post(403, set(), **OTHER_DISTRICT), data={"answer": "x"}),
    ],
}


def build_objects(objects, people) -> dict:
    inst, other = objects["institution"], objects["other_institution"]
    staff = people[Role.SCHOOL_STAFF]
    centre = people[Role.CENTRE_REVIEWER]
    supervisor = people[Role.QUALITY_SUPERVISOR]
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=other.school.organisation)
    site = objects.get("plan_site") or _site(inst)
    plan = _plan(inst, staff, site, submit=True)
    recorded_plan = _plan(inst, staff, site, submit=True)
    other_plan = _plan(other, other_staff, _site(other), submit=True)

    open_assignment = services.supervisor_assign(plan=plan, actor=centre, supervisor=supervisor)
    recorded = services.supervisor_assign(plan=recorded_plan, actor=centre, supervisor=supervisor)
    services.visit_record(assignment=recorded, actor=supervisor, visited_at=timezone.now(), notes="到场督导")
    fix = services.finding_add(
        assignment=recorded,
        actor=supervisor,
        kind="required_fix",
        description="补足监考人员",
        uploads=[SimpleUploadedFile("证据.pdf", PDF, content_type="application/pdf")],
    )
    irregularity = services.finding_add(assignment=recorded, actor=supervisor, kind="irregularity", description="迟到")
    services.report_file(assignment=recorded, actor=supervisor, report="督导报告")

    other_supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    other_assignment = services.supervisor_assign(plan=other_plan, actor=centre, supervisor=other_supervisor)
    other_fix = services.finding_add(
        assignment=other_assignment,
        actor=other_supervisor,
        kind="required_fix",
        description="整改",
        uploads=[SimpleUploadedFile("证据.pdf", PDF, content_type="application/pdf")],
    )
    return {
        "sup_spare": factories.user(Role.QUALITY_SUPERVISOR),
        "sup_plan": plan,
        "sup_other_plan": other_plan,
        "sup_open": open_assignment,
        "sup_recorded": recorded,
        "sup_other_assignment": other_assignment,
        "sup_fix": fix,
        "sup_irregularity": irregularity,
        "sup_other_fix": other_fix,
        "sup_evidence": fix.evidence.get(),
        "sup_other_evidence": other_fix.evidence.get(),
    }
