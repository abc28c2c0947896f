"""Results of a batch (/assessments/<pk>/results/…): every URL as every role, GET and POST.

The school's staff record attendance, enter and import scores and file the results; the batch's
internal supervisor (here the expert, on the batch's staff) records attendance and writes the
report; the centre reviewer accepts or returns; the city-wide authorities and the district
bureau read the grid, the export and the review page; a quality supervisor not on the batch
sees nothing of it (404).
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook

from assessments.models import Attendance, BatchStaff, Candidate, Duty, EvaluationPlan
from assessments.services import results as results_service
from portal.access import CITYWIDE_ROLES
from portal.models import Role
from tests import factories
from tests.access_expectations import READ_ONLY, Post, Writes
from tests.access_expectations.plans_assessments import _plan, _site

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
EXPERT = Role.EXPERT.value  # the batch's internal supervisor
QS = Role.QUALITY_SUPERVISOR.value  # not on the batch
CITY = {str(r) for r in CITYWIDE_ROLES}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, QS: 404, **codes, ANON: 302}


IN_SCOPE = CITY | {STAFF, DISTRICT, EXPERT}

EXPECTATIONS = {
    "assessments:results_attendance": ("results_plan", _for(200, {STAFF, EXPERT})),
    "assessments:results_report": ("results_plan", _for(200, {EXPERT})),
    "assessments:results_scores": ("results_plan", _for(200, IN_SCOPE)),
    "assessments:results_template": ("results_plan", _for(200, {STAFF})),
    "assessments:results_import": ("results_plan", _for(200, {STAFF})),
    "assessments:results_export": ("results_plan", _for(200, IN_SCOPE)),
    "assessments:results_review": ("submitted_results_plan", _for(200, CITY | {DISTRICT})),
    "assessments:results_act": ("results_plan_submit", _for(200, {STAFF})),
}

# Another district's batch: the school's staff, its district bureau and the expert see none of it.
OUT_OF_SCOPE = {
    "assessments:results_scores": ("other_submitted_plan", _for(200, CITY, **{STAFF: 404, DISTRICT: 404, EXPERT: 404})),
    "assessments:results_export": ("other_submitted_plan", _for(200, CITY, **{STAFF: 404, DISTRICT: 404, EXPERT: 404})),
    "assessments:results_attendance": (
        "other_submitted_plan",
        _for(403, set(), **{STAFF: 404, DISTRICT: 404, EXPERT: 404}),
    ),
}


def _attendance_body(objects: dict) -> dict:
    first, second = objects["results_candidates"]
    return {f"att-{first}": "present", f"att-{second}": "absent", f"reason-{second}": "病假"}


def _scores_body(objects: dict) -> dict:
    first, second = objects["results_candidates"]
    return {
        f"s-{first}-theory": "81",
        f"s-{first}-practical": "82",
        f"s-{second}-theory": "83",
        f"s-{second}-practical": "84",
    }


def _import_body(objects: dict) -> dict:
    plan = EvaluationPlan.objects.get(pk=objects["results_plan"].pk)
    wb = load_workbook(BytesIO(results_service.score_template(plan)))
    ws = wb.worksheets[0]
    for row in (2, 3):
        ws.cell(row=row, column=4, value=91)
        ws.cell(row=row, column=5, value=92)
    out = BytesIO()
    wb.save(out)
    return {"file": SimpleUploadedFile("成绩.xlsx", out.getvalue(), content_type=XLSX)}


POST_EXPECTATIONS = {
    "assessments:results_attendance": [
        Post("results_plan", _for(Writes(302), {STAFF, EXPERT}), data=_attendance_body),
        Post("future_results_plan", _for(403, set(), **{STAFF: 409, EXPERT: 404}), data={}, note="not started"),
    ],
    "assessments:results_report": [
        Post("results_plan", _for(Writes(302), {EXPERT}), data={"text": "考场秩序良好。"}),
    ],
    "assessments:results_scores": [
        Post("results_plan", _for(Writes(302), {STAFF}), data=_scores_body),
        Post("submitted_results_plan", _for(403, set(), **{STAFF: 409}), data=_scores_body, note="filed"),
    ],
    "assessments:results_template": READ_ONLY,
    "assessments:results_export": READ_ONLY,
    "assessments:results_review": READ_ONLY,
    "assessments:results_import": [
        Post("results_plan", _for(Writes(302), {STAFF}), data=_import_body),
    ],
    "assessments:results_act": [
        Post("results_plan_submit", _for(Writes(302), {STAFF}), data={"comment": ""}),
        Post("submitted_results_accept", _for(403, set(), **{CENTRE: Writes(302)}), data={"comment": ""}),
        Post("submitted_results_return", _for(403, set(), **{CENTRE: Writes(302)}), data={"comment": "请核对"}),
        Post("results_plan_accept", _for(403, set(), **{CENTRE: 409}), data={"comment": ""}, note="not filed"),
        Post("results_plan_unknown", {**_for(404, set(Role.values)), QS: 404}, data={}, note="no such step"),
    ],
}


def _started_plan(inst, staff, site, centre, expert, student_major, *, started: bool = True):
    plan = _plan(inst, staff, site, submit=True, accept_by=centre)
    if started:
        start = timezone.localtime() - dt.timedelta(days=1)
        EvaluationPlan.objects.filter(pk=plan.pk).update(
            starts_at=start.replace(hour=9, minute=0), ends_at=start.replace(hour=17, minute=0)
        )
        plan.refresh_from_db()
    BatchStaff.objects.create(plan=plan, person=expert, duty=Duty.INTERNAL_SUPERVISOR, added_by=staff)
    candidates = [
        Candidate.objects.create(
            plan=plan,
            student=factories.student(student_major),
            occupation=plan.occupation.occupation,
            level=plan.level,
            added_round=plan.round,
            added_by=staff,
        )
        for _ in range(2)
    ]
    if started:
        results_service.attendance_record(
            plan=plan, actor=staff, entries={c.pk: (Attendance.PRESENT, "") for c in candidates}
        )
        results_service.scores_save(
            plan=plan, actor=staff, typed={c.pk: {"theory": "70", "practical": "75"} for c in candidates}
        )
    return plan, candidates


def build_objects(objects, people) -> dict:
    inst = objects["institution"]
    staff, expert = people[Role.SCHOOL_STAFF], people[Role.EXPERT]
    centre = factories.user(Role.CENTRE_REVIEWER)
    site = _site(inst)
    major = objects["student"].major
    open_plan, candidates = _started_plan(inst, staff, site, centre, expert, major)
    submitted, _c = _started_plan(inst, staff, site, centre, expert, major)
    results_service.results_submit(plan=submitted, actor=staff)
    future, _f = _started_plan(inst, staff, site, centre, factories.user(Role.EXPERT), major, started=False)
    return {
        "results_plan": open_plan,
        "results_candidates": [c.pk for c in candidates],
        "submitted_results_plan": submitted,
        "future_results_plan": future,
        "results_plan_submit": {"pk": open_plan.pk, "action": "submit"},
        "results_plan_accept": {"pk": open_plan.pk, "action": "accept"},
        "results_plan_unknown": {"pk": open_plan.pk, "action": "approve"},
        "submitted_results_accept": {"pk": submitted.pk, "action": "accept"},
        "submitted_results_return": {"pk": submitted.pk, "action": "return"},
    }
