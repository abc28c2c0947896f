"""A slow, all-or-nothing job kind for the worker-kill drill.

The drill's worker imports this module (``celery worker --include tests.faults.slow_job``), so
the kind exists in the worker process; the test process registers it with ``register()``.
Each step writes one student and waits, all inside one transaction: killed midway, nothing stays.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import transaction

KIND = "fault_drill_slow_import"


def _handler(job, progress) -> dict:
    from django.utils.translation import gettext_lazy

    from schools.models import Major, Student
    from tests.factories import id_number

    major = Major.objects.select_related("school").get(pk=job.params["major_id"])
    count, delay = int(job.params["count"]), float(job.params["delay"])
    with transaction.atomic():
        for n in range(count):
            Student.objects.create(
                school=major.school,
                major=major,
                student_number=f"K{n:05d}",
                name=f"演练学生{n}",
                id_number=id_number(n),
                enrolment_year=2024,
                expected_graduation=dt.date(2027, 6, 30),
            )
            progress(n + 1, count, gettext_lazy("写入数据"))
            time.sleep(delay)
    return {"created": count}


def register() -> None:
    from portal.services import JOB_KINDS, JobKind, register_job_kind

    if KIND not in JOB_KINDS:
        register_job_kind(KIND, JobKind("演练导入", _handler, lambda user, params: True))


def _register_when_ready(**kwargs) -> None:
    register()


try:  # in the worker: Django is set up before --include modules are imported
    register()
except Exception:  # noqa: BLE001 - imported before the app registry is ready: register on worker start
    from celery.signals import worker_init

    worker_init.connect(_register_when_ready, weak=False)
