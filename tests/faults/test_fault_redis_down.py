"""Drill 1: Redis (the broker) is down while users work.

The broker is pointed at a port nothing listens on, so every publish really fails the way it
does when Redis is stopped. Users' changes must be kept and answered normally; once the broker
is back, the beat jobs (``sweep_jobs``, ``send_pending_emails``) deliver what waited: the job
runs and each e-mail leaves exactly once.
"""

from __future__ import annotations

import os
from io import BytesIO

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from portal.models import EmailStatus, Job, JobStatus, Notification, Role
from portal.tasks import send_pending_emails, sweep_jobs
from schools.excel import student_template
from schools.models import Student
from tests import factories
from tests.conftest import client_for
from tests.faults.conftest import DEAD_BROKER, needs_redis_and_postgres, wait_for


def _student_file(major, count: int) -> SimpleUploadedFile:
    wb = load_workbook(BytesIO(student_template()))
    ws = wb.worksheets[0]
    for n in range(count):
        ws.append([f"R{n:05d}", f"学生{n}", "居民身份证", factories.id_number(n), major.code, 2024, "2027-06-30", None])
    out = BytesIO()
    wb.save(out)
    return SimpleUploadedFile("students.xlsx", out.getvalue())


def _backdate(job: Job, minutes: int = 2) -> None:
    """The sweep re-sends jobs pending for over a minute; a drill does not wait for the clock."""
    from datetime import timedelta

    from django.utils import timezone

    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fault_redis_down_a_users_import_is_kept_and_runs_once_the_broker_returns(broker):
    school = factories.school()
    major = factories.major(school)
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation, email="staff@example.invalid")
    client = client_for(staff)
    old_notice = Notification.objects.create(recipient=staff, title="旧通知")

    broker(DEAD_BROKER, eager=False)
    response = client.post(reverse("schools:student_import", args=[school.pk]), {"file": _student_file(major, 20)})
    assert response.status_code == 302, response.content[:500]
    job = Job.objects.get()
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    assert (job.status, job.queued_at) == (JobStatus.PENDING, None)  # kept, not handed to anyone yet
    page = client.get(response["Location"])
    assert page.status_code == 200 and "排队中" in page.content.decode()
    # Other changes during the outage answer normally too.
    assert client.post(reverse("notification_read_all")).status_code == 302
    old_notice.refresh_from_db()
    assert old_notice.read_at is not None
    # The beat itself cannot reach the broker either: the sweep changes nothing and loses nothing.
    _backdate(job)
    assert sweep_jobs() == {"retried": 0, "failed": 0, "sent": 0}
    assert Job.objects.get(pk=job.pk).status == JobStatus.PENDING

    broker("memory://localhost/", eager=True)  # the broker is back; tasks run as a worker would run them
    assert sweep_jobs.delay().get() == {"retried": 0, "failed": 0, "sent": 1}
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert Student.objects.filter(school=school).count() == 20
    assert [m.subject for m in mail.outbox] == ["[上海市职业学校职业技能等级认定工作平台] 学籍学生导入已完成"]
    assert send_pending_emails.delay().get() == 0
    assert sweep_jobs.delay().get() == {"retried": 0, "failed": 0, "sent": 0}
    assert len(mail.outbox) == 1
    assert Notification.objects.get(recipient=staff, read_at__isnull=True).email_status == EmailStatus.SENT


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fault_redis_down_when_a_job_finishes_its_email_waits_in_the_outbox(broker):
    """A worker finishes a job while Redis is down: the e-mail kick cannot be queued; the beat job sends it later."""
    from portal.services import job_run

    school = factories.school()
    major = factories.major(school)
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation, email="staff@example.invalid")
    broker("memory://localhost/", eager=False)  # queued normally (into a broker that holds it)...
    from portal.services import job_start

    job = job_start(
        kind="import_students", actor=staff, params={"school_id": school.pk}, upload=_student_file(major, 5)
    )
    broker(DEAD_BROKER, eager=False)  # ...and Redis dies while the worker runs it
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    note = Notification.objects.get(recipient=staff)
    assert (note.email_status, note.emailed_at, mail.outbox) == (EmailStatus.PENDING, None, [])

    broker("memory://localhost/", eager=True)
    assert send_pending_emails.delay().get() == 1
    assert send_pending_emails.delay().get() == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["staff@example.invalid"]
    note.refresh_from_db()
    assert note.email_status == EmailStatus.SENT and note.email_attempts == 1


@pytest.mark.celery_worker
@needs_redis_and_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fault_redis_down_then_back_with_a_real_worker_and_redis(workers):
    """The same outage end to end: real Redis comes back, a real worker runs the sweep, the job and the e-mail."""
    school = factories.school()
    major = factories.major(school)
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation, email="drill-1@example.invalid")
    client = client_for(staff)

    from tests.faults.conftest import point_broker_at

    point_broker_at(DEAD_BROKER, eager=False)
    response = client.post(reverse("schools:student_import", args=[school.pk]), {"file": _student_file(major, 30)})
    assert response.status_code == 302
    job = Job.objects.get()
    assert (job.status, job.queued_at) == (JobStatus.PENDING, None)
    _backdate(job)

    point_broker_at(os.environ["REDIS_URL"], eager=False)  # Redis returns
    worker = workers.start("drill-redis")
    sweep_jobs.delay()  # what beat sends every minute
    wait_for(
        lambda: Notification.objects.filter(recipient=staff, email_status=EmailStatus.SENT).exists(),
        what="the job to run and its e-mail to leave",
        log=lambda: worker.log,
    )
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
    assert Student.objects.filter(school=school).count() == 30
    # Another beat round changes nothing: the e-mail left exactly once.
    from portal.tasks import run_job

    send_pending_emails.delay()
    sweep_jobs.delay()
    run_job.delay(0)  # a no-op marker: one message at a time (prefetch 1, late ack), so once it is
    # received the round before it has finished
    wait_for(lambda: worker.log.count("portal.tasks.run_job[") >= 2, what="the second round", log=lambda: worker.log)
    assert worker.log.count("To: drill-1@example.invalid") == 1, worker.log[-3000:]
    assert Notification.objects.get(recipient=staff).email_attempts == 1
