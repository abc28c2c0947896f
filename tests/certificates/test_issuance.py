"""Issuing a batch's certificates (issue 9 items 1-2): numbering, only accepted results and passed
candidates, photos first, one certificate per candidate, a resumable background job."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from assessments.models import Attendance
from assessments.services import results
from certificates import jobs
from certificates.models import Certificate, CertificateStatus
from certificates.services import documents, issuance
from certificates.services.numbering import certificate_number, is_well_formed
from institutions.models import Institution
from portal.models import Counter, Job, JobStatus, Role
from portal.services import job_run
from tests import factories
from tests.assessments.test_results_builders import AFTER_BATCH, batch
from tests.certificates.issuance_builders import give_photo, give_photos, signing, signing_identity  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing")]

ISSUED_ON = dt.date(2026, 12, 20)


def accepted(n: int = 3, *, failing: int = 0, cast=None, accept: bool = True):
    """A batch with ``n`` candidates whose results were filed (and accepted); the last ``failing`` fail."""
    b = batch(n, cast=cast)
    with time_machine.travel(AFTER_BATCH, tick=False):
        results.attendance_record(
            plan=b.plan, actor=b.staff, entries={c.pk: (Attendance.PRESENT, "") for c in b.candidates}
        )
        typed = {c.pk: {"theory": "80", "practical": "75"} for c in b.candidates}
        for c in b.candidates[n - failing :]:
            typed[c.pk] = {"theory": "40", "practical": "75"}
        results.scores_save(plan=b.plan, actor=b.staff, typed=typed)
        results.results_submit(plan=b.plan, actor=b.staff)
        if accept:
            results.results_accept(plan=b.plan, actor=b.centre)
    for c in b.candidates:
        c.refresh_from_db()
    b.plan.refresh_from_db()
    return b


def run_issue(b, issued_on=ISSUED_ON) -> Job:
    job = jobs.issue_start(plan=b.plan, actor=b.staff, issued_on=issued_on)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def serials(plan) -> list[int]:
    return sorted(int(n[-6:]) for n in Certificate.objects.filter(plan=plan).values_list("number", flat=True))


# --- Numbering ----------------------------------------------------------------------------------


def test_number_is_22_characters_of_institution_code_year_level_digit_and_serial():
    b = accepted(1)
    c = issuance.issue_one(candidate=b.candidates[0], actor=b.staff, issued_on=ISSUED_ON)
    inst = Institution.objects.get(pk=b.plan.institution_id)
    assert len(c.number) == 22 and is_well_formed(c.number)
    assert c.number[:13] == inst.code
    assert c.number[13:15] == "26"
    assert c.number[15] == str(b.plan.level)
    assert c.number[16:] == "000001"


def test_serial_is_gapless_per_institution_and_year_of_issue():
    b = accepted(3)
    numbers = [issuance.issue_one(candidate=c, actor=b.staff, issued_on=ISSUED_ON).number for c in b.candidates[:2]]
    next_year = issuance.issue_one(candidate=b.candidates[2], actor=b.staff, issued_on=dt.date(2027, 1, 4)).number
    assert [n[-6:] for n in numbers] == ["000001", "000002"]
    assert next_year[13:15] == "27" and next_year[-6:] == "000001"
    other = accepted(1)  # another institution starts its own serial
    theirs = issuance.issue_one(candidate=other.candidates[0], actor=other.staff, issued_on=ISSUED_ON)
    assert theirs.number[-6:] == "000001"


def test_serial_is_never_reused_after_revocation():
    b = accepted(2)
    first = issuance.issue_one(candidate=b.candidates[0], actor=b.staff, issued_on=ISSUED_ON)
    Certificate.objects.filter(pk=first.pk).update(status=CertificateStatus.REVOKED)
    second = issuance.issue_one(candidate=b.candidates[1], actor=b.staff, issued_on=ISSUED_ON)
    assert second.number[-6:] == "000002"
    assert Certificate.objects.filter(number=first.number).count() == 1


def test_a_rolled_back_issue_gives_its_serial_back():
    from django.db import transaction

    b = accepted(1)
    inst = Institution.objects.get(pk=b.plan.institution_id)
    with pytest.raises(RuntimeError), transaction.atomic():
        certificate_number(institution=inst, issued_on=ISSUED_ON, level=4)
        raise RuntimeError("the certificate could not be stored")
    c = issuance.issue_one(candidate=b.candidates[0], actor=b.staff, issued_on=ISSUED_ON)
    assert c.number.endswith("000001")


# --- Who and what is issued ---------------------------------------------------------------------


def test_issuance_only_from_accepted_results():
    b = accepted(2, accept=False)
    give_photos(b)
    with pytest.raises(ValidationError) as exc:
        jobs.issue_start(plan=b.plan, actor=b.staff, issued_on=ISSUED_ON)
    assert "尚未经市职鉴中心审核通过" in str(exc.value)
    with pytest.raises(ValidationError):
        issuance.issue_one(candidate=b.candidates[0], actor=b.staff, issued_on=ISSUED_ON)
    assert not Certificate.objects.exists()
    assert not Counter.objects.filter(key__startswith="certificate:").exclude(value=0).exists()


def test_only_passed_candidates_are_issued_certificates():
    b = accepted(3, failing=1)
    give_photos(b)
    job = run_issue(b)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    holders = set(Certificate.objects.filter(plan=b.plan).values_list("candidate_id", flat=True))
    assert holders == {b.candidates[0].pk, b.candidates[1].pk}
    with pytest.raises(ValidationError) as exc:
        issuance.issue_one(candidate=b.candidates[2], actor=b.staff, issued_on=ISSUED_ON)
    assert "不是“合格”" in str(exc.value)


def test_photo_is_required_and_the_refusal_names_the_candidates_missing_one():
    b = accepted(3)
    give_photo(b.candidates[0], b.staff)
    with pytest.raises(ValidationError) as exc:
        jobs.issue_start(plan=b.plan, actor=b.staff, issued_on=ISSUED_ON)
    text = str(exc.value)
    for c in b.candidates[1:]:
        assert c.student.name in text and c.student.student_number in text
    assert b.candidates[0].student.name not in text
    assert not Job.objects.filter(kind=jobs.ISSUE).exists()


def test_only_the_schools_staff_issue():
    b = accepted(1)
    give_photos(b)
    for who in (b.centre, factories.user(Role.DISTRICT_HR_OFFICER), factories.user(Role.SCHOOL_STAFF)):
        with pytest.raises(PermissionDenied):
            jobs.issue_start(plan=b.plan, actor=who, issued_on=ISSUED_ON)
        with pytest.raises(PermissionDenied):
            issuance.issue_one(candidate=b.candidates[0], actor=who, issued_on=ISSUED_ON)


def test_the_issue_job_issues_one_signed_pdf_per_passed_candidate():
    b = accepted(3)
    give_photos(b)
    job = run_issue(b)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result["issued"] == 3 and job.progress == job.total == 3
    certs = list(Certificate.objects.filter(plan=b.plan))
    assert serials(b.plan) == [1, 2, 3]
    for c in certs:
        assert c.pdf and c.pdf_sha256 and c.photo
        with c.pdf.open("rb") as fh:
            assert documents.verify_pdf(fh.read())["genuine"]


def test_one_certificate_per_candidate_when_issued_twice():
    b = accepted(2)
    give_photos(b)
    run_issue(b)
    again = issuance.issue_one(candidate=b.candidates[0], actor=b.staff, issued_on=dt.date(2026, 12, 21))
    assert again.issued_on == ISSUED_ON
    assert issuance.issue_batch(plan=b.plan, actor=b.staff, issued_on=ISSUED_ON)["issued"] == 0
    with pytest.raises(ValidationError) as exc:  # nothing left: no second job is started
        jobs.issue_start(plan=b.plan, actor=b.staff, issued_on=ISSUED_ON)
    assert "均已颁发证书" in str(exc.value)
    assert Certificate.objects.filter(plan=b.plan).count() == 2
    assert serials(b.plan) == [1, 2]


def test_rerun_of_a_half_finished_job_completes_without_duplicate_or_skipped_number(monkeypatch):
    b = accepted(4)
    give_photos(b)
    real = documents.certificate_render
    calls = {"n": 0}

    def dies_on_the_third(*, certificate_id, force=False):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker died")
        return real(certificate_id=certificate_id, force=force)

    monkeypatch.setattr(documents, "certificate_render", dies_on_the_third)
    job = run_issue(b)
    assert job.status == JobStatus.FAILED
    assert Certificate.objects.filter(plan=b.plan).count() == 3  # the third was stored, its PDF not
    monkeypatch.setattr(documents, "certificate_render", real)
    job = run_issue(b)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert serials(b.plan) == [1, 2, 3, 4]
    assert not Certificate.objects.filter(plan=b.plan, pdf="").exists()
    assert job.result["issued"] == 1


def test_a_second_start_while_the_job_runs_returns_the_same_job():
    b = accepted(1)
    give_photos(b)
    first = jobs.issue_start(plan=b.plan, actor=b.staff, issued_on=ISSUED_ON)
    assert jobs.issue_start(plan=b.plan, actor=b.staff, issued_on=ISSUED_ON).pk == first.pk
