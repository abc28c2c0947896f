"""Drill 2: the worker running a job is killed (``kill -9``) in the middle of it.

Today's failure: a killed import showed 100 % 进行中 forever. Now the job's heartbeat stops, the
sweep notices the silence and runs the job again (attempts counted) or, after the last attempt,
fails it with a clear message; the handler writes in one transaction, so the killed attempt
leaves nothing behind and the retry does not write twice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.i18n import shown
from portal.models import Job, JobStatus, Notification, Role
from portal.models.jobs import job_stale_seconds
from portal.services import job_start, job_sweep
from schools.models import Student
from tests import factories
from tests.conftest import client_for
from tests.faults import slow_job
from tests.faults.conftest import needs_redis_and_postgres, wait_for

ROWS = 40


@pytest.fixture
def slow_kind():
    from portal.services import JOB_KINDS

    saved = dict(JOB_KINDS)
    slow_job.register()
    yield slow_job.KIND
    JOB_KINDS.clear()
    JOB_KINDS.update(saved)


def _start_and_kill_midway(workers, kind: str, *, delay: float = 0.25):
    school = factories.school()
    major = factories.major(school)
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    worker = workers.start("drill-kill", include="tests.faults.slow_job", env={"PORTAL_JOB_HEARTBEAT_SECONDS": "1"})
    job = job_start(kind=kind, actor=staff, params={"major_id": major.pk, "count": ROWS, "delay": delay})

    def midway() -> bool:
        job.refresh_from_db()
        return job.status == JobStatus.RUNNING and 5 <= job.progress < ROWS

    # Progress shows while the handler's transaction is still open (written by the heartbeat thread).
    wait_for(midway, what="the job to be midway", log=lambda: worker.log)
    worker.kill()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.progress < ROWS  # what the user saw: 进行中, for ever
    assert Student.objects.filter(school=school).count() == 0  # the open transaction died with the worker
    return job, school, staff


def _sweep_after_silence() -> dict:
    """The sweep as beat runs it once the heartbeat has been silent longer than allowed."""
    return job_sweep(now=timezone.now() + timedelta(seconds=job_stale_seconds() + 1))


@pytest.mark.celery_worker
@needs_redis_and_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fault_worker_killed_mid_job_the_sweep_retries_it_to_success(workers, slow_kind):
    job, school, staff = _start_and_kill_midway(workers, slow_kind)
    assert _sweep_after_silence() == {"retried": 1, "failed": 0, "sent": 1}
    job.refresh_from_db()
    assert (job.status, job.progress) == (JobStatus.PENDING, 0)
    assert "执行中断" in shown(job.stage)

    second = workers.start("drill-retry", include="tests.faults.slow_job")
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, what="the retry to finish", log=lambda: second.log)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result) == (JobStatus.SUCCEEDED, 2, {"created": ROWS}), job.errors
    assert Student.objects.filter(school=school).count() == ROWS  # written once, whole
    assert [shown(n.title) for n in Notification.objects.filter(recipient=staff)] == ["演练导入已完成"]


@pytest.mark.celery_worker
@needs_redis_and_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fault_worker_killed_on_the_last_attempt_the_job_fails_with_a_clear_message(workers, slow_kind, settings):
    settings.PORTAL_JOB_MAX_ATTEMPTS = 1
    job, school, staff = _start_and_kill_midway(workers, slow_kind)
    assert _sweep_after_silence() == {"retried": 0, "failed": 1, "sent": 0}
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.is_finished
    message = shown(job.errors[0])
    assert message.startswith("任务执行中断") and "请重新上传或重试" in message
    assert Student.objects.filter(school=school).count() == 0
    page = client_for(staff).get(reverse("job_detail", args=[job.pk])).content.decode()
    assert message in page and "hx-trigger" not in page and "任务会在后台继续" not in page
    assert [shown(n.title) for n in Notification.objects.filter(recipient=staff)] == ["演练导入失败"]
