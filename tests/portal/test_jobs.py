from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from portal.i18n import is_stored, shown
from portal.models import Job, JobStatus, Notification, Role
from portal.services import (
    JOB_KINDS,
    JobFailed,
    JobKind,
    job_run,
    job_start,
    job_sweep,
    register_job_kind,
)
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

BACKGROUND_NOTE = "任务会在后台继续"


@pytest.fixture
def kinds():
    saved = dict(JOB_KINDS)

    def ok(job, progress):
        for i in range(1, 4):
            progress(i, 3, gettext_lazy("已完成"))
        return {"created": 3}

    def bad(job, progress):
        raise JobFailed(["第2行「学号」：不能为空。"])

    def crash(job, progress):
        raise ValueError("boom")

    allow = lambda user, params: user.has_role(Role.SCHOOL_STAFF)  # noqa: E731
    register_job_kind("test_ok", JobKind("测试任务", ok, allow))
    register_job_kind("test_bad", JobKind("测试任务", bad, allow))
    register_job_kind("test_crash", JobKind("测试任务", crash, allow))
    yield
    JOB_KINDS.clear()
    JOB_KINDS.update(saved)


def _running(user, *, silent_for: timedelta, attempts: int = 1, progress: int = 7, total: int = 10) -> Job:
    """A job a worker claimed and then stopped reporting on (killed), ``silent_for`` ago."""
    then = timezone.now() - silent_for
    return Job.objects.create(
        kind="test_ok",
        created_by=user,
        status=JobStatus.RUNNING,
        started_at=then,
        heartbeat_at=then,
        attempts=attempts,
        progress=progress,
        total=total,
    )


def test_a_job_runs_after_commit_and_reports_its_result(kinds, django_capture_on_commit_callbacks):
    user = factories.user(Role.SCHOOL_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_ok", actor=user)
        assert Job.objects.get(pk=job.pk).status == JobStatus.PENDING
    job.refresh_from_db()
    assert (job.status, job.progress, job.total, job.result) == (JobStatus.SUCCEEDED, 3, 3, {"created": 3})
    assert job.attempts == 1 and job.queued_at is not None
    assert shown(Notification.objects.get(recipient=user).title) == "测试任务已完成"


def test_a_failed_job_keeps_the_messages_for_the_user(kinds, django_capture_on_commit_callbacks):
    user = factories.user(Role.SCHOOL_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_bad", actor=user)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors == ["第2行「学号」：不能为空。"]
    page = client_for(user).get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "第2行「学号」：不能为空。" in page
    assert BACKGROUND_NOTE not in page


def test_an_unexpected_error_fails_the_job_with_a_plain_message(kinds, django_capture_on_commit_callbacks):
    user = factories.user(Role.SCHOOL_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_crash", actor=user)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "任务执行出错" in shown(job.errors[0])


def test_a_job_is_run_once_even_if_the_task_is_delivered_twice(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = Job.objects.create(kind="test_ok", created_by=user)
    job_run(job_id=job.pk)
    job_run(job_id=job.pk)
    assert Notification.objects.filter(recipient=user).count() == 1
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_a_user_not_allowed_to_start_a_job_is_refused(kinds):
    with pytest.raises(PermissionDenied):
        job_start(kind="test_ok", actor=factories.user(Role.EXPERT))
    assert not Job.objects.exists()


def test_the_progress_fragment_polls_until_the_job_finishes(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = Job.objects.create(
        kind="test_ok", created_by=user, total=10, progress=4, status=JobStatus.RUNNING, heartbeat_at=timezone.now()
    )
    client = client_for(user)
    fragment = client.get(reverse("job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "40%" in fragment and "<html" not in fragment
    assert BACKGROUND_NOTE in fragment
    job_run(job_id=job.pk)  # not pending: left alone
    job.status = JobStatus.SUCCEEDED
    job.save()
    fragment = client.get(reverse("job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and "100%" in fragment
    assert BACKGROUND_NOTE not in fragment


def test_progress_reports_are_heartbeats_and_stages_are_shown_in_the_readers_language(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = Job.objects.create(kind="test_ok", created_by=user)
    from portal.services import _set_progress

    _set_progress(job.pk)(2, 5, gettext_lazy("已完成"))
    job.refresh_from_db()
    assert job.heartbeat_at is not None and is_stored(job.stage)
    job.status = JobStatus.RUNNING
    job.save(update_fields=["status"])
    client = client_for(user)
    assert "已完成" in client.get(reverse("job_detail", args=[job.pk])).content.decode()
    client.cookies["django_language"] = "en"
    assert "Completed" in client.get(reverse("job_detail", args=[job.pk])).content.decode()


def test_a_pending_job_the_broker_never_got_is_sent_again_by_the_sweep(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = Job.objects.create(kind="test_ok", created_by=user)  # its on-commit send was lost
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    assert job_sweep() == {"retried": 0, "failed": 0, "sent": 1}
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED


def test_the_sweep_leaves_young_pending_and_live_running_jobs_alone(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    fresh = Job.objects.create(kind="test_ok", created_by=user)
    live = _running(user, silent_for=timedelta(seconds=10))
    assert job_sweep() == {"retried": 0, "failed": 0, "sent": 0}
    assert Job.objects.get(pk=fresh.pk).status == JobStatus.PENDING
    assert Job.objects.get(pk=live.pk).status == JobStatus.RUNNING


def test_a_job_whose_worker_went_silent_is_retried_and_the_retry_succeeds(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = _running(user, silent_for=timedelta(minutes=5))
    assert job_sweep() == {"retried": 1, "failed": 0, "sent": 1}
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result) == (JobStatus.SUCCEEDED, 2, {"created": 3})
    assert Notification.objects.filter(recipient=user).count() == 1


def test_a_silent_job_is_shown_as_interrupted_until_the_sweep_acts(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = _running(user, silent_for=timedelta(minutes=5))
    page = client_for(user).get(reverse("job_detail", args=[job.pk])).content.decode()
    assert 'data-stale="true"' in page and "任务执行中断" in page
    assert BACKGROUND_NOTE not in page
    listing = client_for(user).get(reverse("job_list")).content.decode()
    assert "已中断，等待自动重试" in listing


def test_a_job_silent_after_its_last_attempt_fails_with_a_clear_message(kinds, settings):
    settings.PORTAL_JOB_MAX_ATTEMPTS = 3
    user = factories.user(Role.SCHOOL_STAFF)
    job = _running(user, silent_for=timedelta(minutes=5), attempts=3)
    assert job_sweep() == {"retried": 0, "failed": 1, "sent": 0}
    assert job_sweep() == {"retried": 0, "failed": 0, "sent": 0}  # nothing twice
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.is_finished and job.was_interrupted
    assert "任务执行中断" in shown(job.errors[0]) and "请重新上传或重试" in shown(job.errors[0])
    assert shown(Notification.objects.get(recipient=user).title) == "测试任务失败"
    page = client_for(user).get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "任务执行中断" in page and "hx-trigger" not in page and BACKGROUND_NOTE not in page
    assert "请修改以下问题" not in page  # not the wording of a refused file


def test_a_worker_taken_for_dead_that_comes_back_does_not_overwrite_the_retry(kinds):
    """The sweep took the job back while its old worker was frozen: the old worker's finish is dropped."""
    user = factories.user(Role.SCHOOL_STAFF)
    job = _running(user, silent_for=timedelta(minutes=5))
    from portal.services import _finish

    stale_view = Job.objects.get(pk=job.pk)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=2, heartbeat_at=timezone.now())
    assert _finish(stale_view, JobStatus.SUCCEEDED, result={"created": 99}) is False
    job.refresh_from_db()
    assert (job.status, job.result) == (JobStatus.RUNNING, {})
    assert not Notification.objects.exists()


def test_a_job_of_a_kind_this_worker_does_not_know_fails_instead_of_running_forever(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = Job.objects.create(kind="not_registered_here", created_by=user)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "任务执行出错" in shown(job.errors[0])


def test_job_messages_and_notifications_are_stored_for_the_reader(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = _running(user, silent_for=timedelta(minutes=5), attempts=3)
    job_sweep()
    job.refresh_from_db()
    assert is_stored(Notification.objects.get(recipient=user).title)
    assert is_stored(job.errors[0]) and is_stored(job.stage)


def test_starting_a_job_while_the_broker_is_down_keeps_the_job_for_the_sweep(kinds, broker_down):
    user = factories.user(Role.SCHOOL_STAFF)
    with transaction.atomic():
        job = job_start(kind="test_ok", actor=user)
    job.refresh_from_db()
    assert (job.status, job.queued_at) == (JobStatus.PENDING, None)


@pytest.fixture
def broker_down(settings):
    """Celery really publishing, to a port nothing listens on."""
    from portal import queue
    from portal.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    queue.reset_broker_connections(app)
    yield
    app.conf.broker_url, app.conf.task_always_eager = saved
    queue.reset_broker_connections(app)
