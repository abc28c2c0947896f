"""The school's certificate pages for a batch: issue, list, PDF, ZIP; scope per role."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates import jobs
from certificates.models import Certificate
from certificates.services.issuance import issue_one
from portal.models import Job, JobStatus, Role
from portal.services import job_run
from tests import factories
from tests.certificates.issuance_builders import give_photo, give_photos, signing, signing_identity  # noqa: F401
from tests.certificates.test_issuance import ISSUED_ON, accepted

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing", "on_issue_day")]


@pytest.fixture
def on_issue_day():
    with time_machine.travel(dt.datetime(2026, 12, 20, 2, 0, tzinfo=dt.UTC), tick=False):
        yield


def page(pk: int) -> str:
    return reverse("certificates:batch_certificates", args=[pk])


def test_staff_issue_from_the_batch_page_and_download_the_pdfs_and_the_zip(client):
    b = accepted(2)
    give_photos(b)
    client.force_login(b.staff)
    response = client.get(page(b.plan.pk))
    assert response.status_code == 200 and 'data-testid="issue-start"' in response.content.decode()
    response = client.post(page(b.plan.pk), {"issued_on": ISSUED_ON.isoformat()})
    job = Job.objects.get(kind=jobs.ISSUE)
    assert response.status_code == 302 and response["Location"] == reverse("job_detail", args=[job.pk])
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert client.get(reverse("job_detail", args=[job.pk])).status_code == 200  # the progress page after a reload
    body = client.get(page(b.plan.pk)).content.decode()
    certs = list(Certificate.objects.filter(plan=b.plan).order_by("number"))
    for c in certs:
        assert c.number in body and c.name in body
        pdf = client.get(reverse("certificates:certificate_pdf", args=[c.pk]))
        assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
        assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert 'data-testid="issue-start"' not in body  # all issued: no second run offered
    response = client.post(reverse("certificates:batch_zip", args=[b.plan.pk]))
    zip_job = Job.objects.get(kind=jobs.ZIP)
    job_run(job_id=zip_job.pk)
    zip_job.refresh_from_db()
    assert zip_job.status == JobStatus.SUCCEEDED, zip_job.errors
    download = client.get(reverse("certificates:batch_zip_download", args=[zip_job.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert sorted(n.split("-")[0] for n in archive.namelist()) == [c.number for c in certs]


def test_the_page_names_candidates_without_a_photo_and_refuses_to_start(client):
    b = accepted(2)
    give_photo(b.candidates[0], b.staff)
    client.force_login(b.staff)
    body = client.get(page(b.plan.pk)).content.decode()
    assert 'data-testid="issue-problems"' in body and b.candidates[1].student.name in body
    response = client.post(page(b.plan.pk), {"issued_on": ISSUED_ON.isoformat()})
    assert response.status_code == 400 and b.candidates[1].student.name in response.content.decode()
    assert not Job.objects.exists()


def test_issue_date_cannot_be_in_the_future(client):
    b = accepted(1)
    give_photos(b)
    client.force_login(b.staff)
    response = client.post(page(b.plan.pk), {"issued_on": "2099-01-01"})
    assert response.status_code == 400 and not Job.objects.exists()


def test_readers_see_the_batch_and_cannot_issue_others_find_nothing(client):
    b = accepted(1)
    give_photos(b)
    bureau = factories.organisation("district_hr", district_code=b.cast.school.organisation.district.code)
    other_bureau = factories.organisation("district_hr", district_code="310112")
    cases = {
        b.centre: (200, 403),
        factories.user(Role.DISTRICT_HR_OFFICER, organisation=bureau): (200, 403),
        factories.user(Role.DISTRICT_HR_OFFICER, organisation=other_bureau): (404, 404),
        b.b.supervisor if hasattr(b, "b") else b.supervisor: (404, 404),  # on the batch's staff: not a reader
        factories.user(Role.SCHOOL_STAFF): (404, 404),  # another school
    }
    for user, (get, post) in cases.items():
        client.force_login(user)
        assert client.get(page(b.plan.pk)).status_code == get, user
        assert client.post(page(b.plan.pk), {"issued_on": ISSUED_ON.isoformat()}).status_code == post, user
    assert not Job.objects.exists()


def test_the_batch_list_takes_the_same_queries_at_two_sizes(client):
    counts = []
    for n in (2, 6):
        b = accepted(n)
        for c in b.candidates:
            issue_one(candidate=c, actor=b.staff, issued_on=ISSUED_ON)
        client.force_login(b.staff)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page(b.plan.pk)).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
