"""A batch's certificates (/certificates/batches/<plan>/, its ZIP, each certificate's PDF): every
URL as every role, GET and POST.

The school's staff of the institution issue and read; the city-wide authorities and the district
bureau (its district's) read and may pack the ZIP; everyone else finds nothing (404). A ZIP is
downloaded by the person whose job built it. Named ``plans_z…`` so that it is built after the
batches (``plans_results``) whose helpers it uses.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from assessments.services import results as results_service
from certificates import jobs
from certificates.models import CandidatePhoto
from certificates.services.issuance import issue_one
from portal.access import CITYWIDE_ROLES
from portal.models import Job, JobStatus, Role
from tests import factories
from tests.access_expectations import READ_ONLY, Post, Writes
from tests.access_expectations.plans_assessments import _site
from tests.access_expectations.plans_results import _started_plan

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
CITY = {str(r) for r in CITYWIDE_ROLES}
READERS = CITY | {STAFF, DISTRICT}
FAKE_PDF = b"%PDF-1.7\n% access matrix stand-in\n%%EOF\n"


def _for(ok, roles: set[str], other=404, **codes) -> dict:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


EXPECTATIONS = {
    "certificates:batch_certificates": ("issued_plan", _for(200, READERS)),
    "certificates:batch_zip": ("issued_plan", _for(302, READERS)),  # GET goes back to the batch's page
    "certificates:batch_zip_download": ("certificates_zip_job", _for(200, {STAFF})),
    "certificates:certificate_pdf": ("issued_certificate", _for(200, READERS)),
}

OUT_OF_SCOPE = {
    "certificates:batch_certificates": ("other_submitted_plan", _for(200, CITY)),
}

POST_EXPECTATIONS = {
    "certificates:batch_certificates": [
        Post(
            "photographed_plan",
            _for(403, READERS, **{STAFF: Writes(302)}),
            data=lambda objects: {"issued_on": timezone.localdate().isoformat()},
        ),
        Post(
            "issued_plan",
            _for(403, READERS, **{STAFF: 400}),
            data=lambda objects: {"issued_on": timezone.localdate().isoformat()},
            note="every passed candidate already holds a certificate: nothing to start, the page again",
        ),
    ],
    "certificates:batch_zip": [Post("issued_plan", _for(Writes(302), READERS))],
    "certificates:batch_zip_download": READ_ONLY,
    "certificates:certificate_pdf": READ_ONLY,
}


def _accepted(inst, staff, site, centre, expert, major):
    plan, candidates = _started_plan(inst, staff, site, centre, expert, major)
    results_service.results_submit(plan=plan, actor=staff)
    results_service.results_accept(plan=plan, actor=centre)
    for c in candidates:
        c.refresh_from_db()
    return plan, candidates


def build_objects(objects, people) -> dict:
    inst = objects["institution"]
    staff = people[Role.SCHOOL_STAFF]
    centre = factories.user(Role.CENTRE_REVIEWER)
    site = _site(inst)
    major = objects["student"].major
    issued_plan, issued_candidates = _accepted(inst, staff, site, centre, factories.user(Role.EXPERT), major)
    certificates = [issue_one(candidate=c, actor=staff, issued_on=timezone.localdate()) for c in issued_candidates]
    for c in certificates:  # a stored stand-in: the real render is tested in tests/certificates/test_pdf.py
        c.pdf.save(f"{c.number}.pdf", ContentFile(FAKE_PDF), save=True)
    photographed, candidates = _accepted(inst, staff, site, centre, factories.user(Role.EXPERT), major)
    for c in candidates:
        photo = CandidatePhoto(
            student=c.student, content_type="image/jpeg", size=4, width=413, height=579, uploaded_by=staff
        )
        photo.file.save(f"{c.student_id}.jpg", ContentFile(b"\xff\xd8\xff\xd9"), save=False)
        photo.save()
    zip_name = default_storage.save(
        f"certificates/zip/plan-{issued_plan.pk}-matrix.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18)
    )
    zip_job = Job.objects.create(
        kind=jobs.ZIP,
        created_by=staff,
        params={"plan_id": issued_plan.pk},
        status=JobStatus.SUCCEEDED,
        result={"file": zip_name, "count": len(certificates)},
    )
    return {
        "issued_plan": issued_plan,
        "issued_certificate": certificates[0],
        "photographed_plan": photographed,
        "certificates_zip_job": zip_job,
    }
