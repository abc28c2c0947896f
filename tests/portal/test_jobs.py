import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from portal.models import Job, JobStatus, Notification, Role
from portal.services import JOB_KINDS, JobFailed, JobKind, job_run, job_start, register_job_kind
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def kinds():
    saved = dict(JOB_KINDS)

    def ok(job, progress):
        for i in range(1, 4):
            progress(i, 3, "处理中")
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


def test_a_job_runs_after_commit_and_reports_its_result(kinds, django_capture_on_commit_callbacks):
    user = factories.user(Role.SCHOOL_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_ok", actor=user)
        assert Job.objects.get(pk=job.pk).status == JobStatus.PENDING
    job.refresh_from_db()
    assert (job.status, job.progress, job.total, job.result) == (JobStatus.SUCCEEDED, 3, 3, {"created": 3})
    assert Notification.objects.get(recipient=user).title == "测试任务已完成"


def test_a_failed_job_keeps_the_messages_for_the_user(kinds, django_capture_on_commit_callbacks):
    user = factories.user(Role.SCHOOL_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_bad", actor=user)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors == ["第2行「学号」：不能为空。"]
    page = client_for(user).get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "第2行「学号」：不能为空。" in page


def test_an_unexpected_error_fails_the_job_with_a_plain_message(kinds, django_capture_on_commit_callbacks):
    user = factories.user(Role.SCHOOL_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test_crash", actor=user)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "任务执行出错" in job.errors[0]


def test_a_job_is_run_once_even_if_the_task_is_delivered_twice(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = Job.objects.create(kind="test_ok", created_by=user)
    job_run(job_id=job.pk)
    job_run(job_id=job.pk)
    assert Notification.objects.filter(recipient=user).count() == 1


def test_a_user_not_allowed_to_start_a_job_is_refused(kinds):
    with pytest.raises(PermissionDenied):
        job_start(kind="test_ok", actor=factories.user(Role.EXPERT))
    assert not Job.objects.exists()


def test_the_progress_fragment_polls_until_the_job_finishes(kinds):
    user = factories.user(Role.SCHOOL_STAFF)
    job = Job.objects.create(kind="test_ok", created_by=user, total=10, progress=4, status=JobStatus.RUNNING)
    client = client_for(user)
    fragment = client.get(reverse("job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "40%" in fragment and "<html" not in fragment
    job_run(job_id=job.pk)  # not pending: left alone
    job.status = JobStatus.SUCCEEDED
    job.save()
    fragment = client.get(reverse("job_detail", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and "100%" in fragment
