"""Certificate records (/certificates/…): lists, a certificate's record, revocation and correction
requests, photos, reporting and the national export — every URL as every role, GET and POST.

School staff work on their own certificates, photos and reports; the centre reviewer decides
requests, receives reports, exports for the national system and lists the unreported; the
city-wide authorities and the district bureau read the lists; experts and quality supervisors
hold no role for these pages (403), and a batch they are not on is out of their reach (404).
"""

from __future__ import annotations

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from assessments.models import Attendance, Candidate, EvaluationPlan
from assessments.services import results as results_service
from certificates.models import RequestKind
from certificates.services import records, reporting
from certificates.services.issuance import issue_one
from certificates.services.photos import photo_save
from portal.access import CITYWIDE_ROLES
from portal.models import Role
from tests import factories
from tests.access_expectations import READ_ONLY, Post, Writes
from tests.access_expectations.plans_assessments import _plan, _site

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
EXPERT = Role.EXPERT.value
QS = Role.QUALITY_SUPERVISOR.value
CITY = {str(r) for r in CITYWIDE_ROLES}
READERS = CITY | {STAFF, DISTRICT}


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


# Batch pages (photos, reporting a batch): loaded through the batch's selector first.
BATCH_ONLY_STAFF = _for(200, {STAFF}, **{EXPERT: 404, QS: 404})

EXPECTATIONS = {
    "certificates:certificate_list": (None, _for(200, READERS)),
    "certificates:certificate_export": (None, _for(200, READERS)),
    "certificates:certificate_detail": ("rec_cert", _for(200, READERS)),
    "certificates:certificate_request": ("rec_cert", _for(200, {STAFF})),
    "certificates:request_list": (None, _for(200, READERS)),
    "certificates:request_detail": ("rec_request", _for(200, READERS)),
    "certificates:photo_list": ("rec_open_plan", BATCH_ONLY_STAFF),
    "certificates:photo_import": ("rec_open_plan", BATCH_ONLY_STAFF),
    "certificates:report_list": (None, _for(200, READERS)),
    "certificates:report_submit": ("rec_open_plan", _for(200, {STAFF})),
    "certificates:report_receive": ("rec_report", _for(200, {CENTRE})),
    "certificates:national": (None, _for(200, {CENTRE})),
    "certificates:national_download": ("rec_export", _for(200, {CENTRE})),
    "certificates:unreported": (None, _for(200, {CENTRE})),
    "certificates:unreported_export": (None, _for(200, {CENTRE})),
}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (295, 413), (250, 250, 250)).save(out, "JPEG")
    return out.getvalue()


def _photo_body(objects: dict) -> dict:
    return {"candidate": objects["rec_open_candidate"], "file": SimpleUploadedFile("p.jpg", _jpeg())}


def _zip_body(objects: dict) -> dict:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(f"{objects['rec_open_student_number']}.jpg", _jpeg())
    return {"file": SimpleUploadedFile("photos.zip", out.getvalue())}


def _national_body(objects: dict) -> dict:
    day = objects["rec_issued_on"]
    return {"period_from": day, "period_to": day, "include_exported": "on"}


POST_EXPECTATIONS = {
    "certificates:certificate_list": READ_ONLY,
    "certificates:certificate_export": READ_ONLY,
    "certificates:certificate_detail": READ_ONLY,
    "certificates:request_list": READ_ONLY,
    "certificates:report_list": READ_ONLY,
    "certificates:national_download": READ_ONLY,
    "certificates:unreported": READ_ONLY,
    "certificates:unreported_export": READ_ONLY,
    "certificates:certificate_request": [
        Post("rec_cert", _for(Writes(302), {STAFF}), data={"kind": RequestKind.REVOKE, "reason": "重复发证"}),
    ],
    "certificates:request_detail": [
        Post("rec_request", _for(403, set(), **{CENTRE: Writes(302)}), data={"action": "approve", "comment": "同意"}),
        Post("rec_request", _for(403, set(), **{STAFF: Writes(302)}), data={"action": "withdraw"}),
        Post("rec_request", _for(404, READERS), data={"action": "delete"}, note="no such step"),
    ],
    "certificates:photo_list": [
        Post("rec_open_plan", _for(Writes(302), {STAFF}, **{EXPERT: 404, QS: 404}), data=_photo_body),
    ],
    "certificates:photo_import": [
        Post("rec_open_plan", _for(Writes(200), {STAFF}, **{EXPERT: 404, QS: 404}), data=_zip_body),
    ],
    "certificates:report_submit": [
        Post("rec_open_plan", _for(Writes(302), {STAFF}), data={}),
    ],
    "certificates:report_receive": [
        Post("rec_report", _for(Writes(302), {CENTRE}), data={}),
    ],
    "certificates:national": [
        Post(None, _for(Writes(302), {CENTRE}), data=_national_body),
    ],
}


def _issued_plan(inst, staff, site, centre, major, n: int):
    """An accepted batch held yesterday, its results filed and accepted, a certificate for each candidate."""
    import datetime as dt

    from django.utils import timezone

    plan = _plan(inst, staff, site, submit=True, accept_by=centre)
    start = timezone.localtime() - dt.timedelta(days=1)
    EvaluationPlan.objects.filter(pk=plan.pk).update(
        starts_at=start.replace(hour=9, minute=0), ends_at=start.replace(hour=17, minute=0)
    )
    plan.refresh_from_db()
    candidates = [
        Candidate.objects.create(
            plan=plan,
            student=factories.student(major),
            occupation=plan.occupation.occupation,
            level=plan.level,
            added_round=plan.round,
            added_by=staff,
        )
        for _ in range(n)
    ]
    results_service.attendance_record(
        plan=plan, actor=staff, entries={c.pk: (Attendance.PRESENT, "") for c in candidates}
    )
    results_service.scores_save(
        plan=plan, actor=staff, typed={c.pk: {"theory": "80", "practical": "80"} for c in candidates}
    )
    results_service.results_submit(plan=plan, actor=staff)
    results_service.results_accept(plan=plan, actor=centre)
    issued_on = timezone.localdate()
    certificates = []
    for c in candidates:
        c.refresh_from_db()
        photo_save(student=c.student, actor=staff, data=_jpeg(), name="p.jpg")
        certificates.append(issue_one(candidate=c, actor=staff, issued_on=issued_on))
    return plan, candidates, certificates


def build_objects(objects, people) -> dict:
    inst = objects["institution"]
    staff = people[Role.SCHOOL_STAFF]
    centre = people[Role.CENTRE_REVIEWER]
    site = _site(inst)
    major = objects["student"].major
    reported, _c, certs = _issued_plan(inst, staff, site, centre, major, 2)
    report = reporting.report_submit(plan=reported, actor=staff)
    export = reporting.national_export(actor=centre, period_from=certs[0].issued_on, period_to=certs[0].issued_on)
    request = records.request_create(certificate=certs[1], actor=staff, kind=RequestKind.REVOKE, reason="录入错误")
    open_plan, candidates, _open_certs = _issued_plan(inst, staff, site, centre, major, 1)
    return {
        "rec_cert": certs[0],
        "rec_request": request,
        "rec_report": report,
        "rec_export": export,
        "rec_issued_on": certs[0].issued_on.isoformat(),
        "rec_open_plan": open_plan,
        "rec_open_candidate": candidates[0].pk,
        "rec_open_student_number": candidates[0].student.student_number,
    }
