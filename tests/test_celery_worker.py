"""The background job path with a real Celery worker, Redis and PostgreSQL (CI runs this)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from openpyxl import load_workbook

from portal.models import Job, JobStatus, Role
from portal.services import job_start
from schools.excel import student_template
from schools.models import Student
from tests import factories

needs_services = pytest.mark.skipif(
    not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs Redis and PostgreSQL: .ci/run sets REDIS_URL and DATABASE_URL",
)


def _student_file(major, count: int) -> SimpleUploadedFile:
    wb = load_workbook(BytesIO(student_template()))
    ws = wb.worksheets[0]
    for n in range(count):
        ws.append([f"W{n:05d}", f"学生{n}", "居民身份证", factories.id_number(n), major.code, 2024, "2027-06-30", None])
    out = BytesIO()
    wb.save(out)
    return SimpleUploadedFile("students.xlsx", out.getvalue())


@pytest.fixture
def worker(tmp_path):
    from portal.celery import app

    app.conf.task_always_eager = False
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "PORTAL_VAR_DIR": str(tmp_path),
        "C_FORCE_ROOT": "1",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    log = open(tmp_path / "worker.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "-l", "INFO", "-n", "pytest@%h"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=20)
    log.close()
    app.conf.task_always_eager = True


@pytest.mark.celery_worker
@needs_services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_runs_a_student_import_job(worker, tmp_path):
    school = factories.school()
    major = factories.major(school)
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    job = job_start(
        kind="import_students", actor=staff, params={"school_id": school.pk}, upload=_student_file(major, 300)
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.5)
    log = (tmp_path / "worker.log").read_text()
    assert job.status == JobStatus.SUCCEEDED, (job.errors, log[-3000:])
    assert job.result == {"created": 300}
    assert Student.objects.filter(school=school).count() == 300
    assert "portal.tasks.run_job" in log
    job = Job.objects.get(pk=job.pk)
    assert (job.progress, job.attempts) == (300, 1)
    assert job.queued_at is not None and job.heartbeat_at is not None
