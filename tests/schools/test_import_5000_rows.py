"""A 5,000-row student file goes through the background job, reporting progress on the way.

Outcomes only: how fast it goes is measured by bench/run.py, as a ratio to reading the same
workbook in the same run (a wall-clock limit here failed whenever the machine was busy).
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from portal import services
from portal.i18n import shown
from portal.models import Job, JobStatus, Role
from portal.validators import id_number_check_char
from schools.excel import STUDENT_COLUMNS
from schools.models import Student
from tests import factories

ROWS = 5000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def unique_id(n: int) -> str:
    """A GB 11643-valid number, unique for n < 365,000: birth date and sequence both vary."""
    birth = dt.date(2005, 1, 1) + dt.timedelta(days=n // 1000)
    first17 = f"310115{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def student_file(rows: int, major_code: str) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("学籍学生")
    ws.append([c.header for c in STUDENT_COLUMNS])
    for n in range(1, rows + 1):
        ws.append([f"S{n:06d}", f"学生{n}", "居民身份证", unique_id(n), major_code, 2024, "2027-06-30", ""])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.django_db
def test_a_5000_row_student_file_imports_through_the_job_and_reports_progress_while_running(
    django_capture_on_commit_callbacks, monkeypatch, school
):
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    major = factories.major(school, code="460104")
    data = student_file(ROWS, major.code)

    updates: list[tuple[int, int, str]] = []
    real_set_progress = services._set_progress

    def spying_set_progress(job_id: int):
        report = real_set_progress(job_id)

        def progress(done: int, total: int, stage: str = "") -> None:
            updates.append((done, total, stage))
            report(done, total, stage)

        return progress

    monkeypatch.setattr(services, "_set_progress", spying_set_progress)

    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_start(
            kind="import_students",
            actor=staff,
            params={"school_id": school.pk},
            upload=SimpleUploadedFile("学籍学生.xlsx", data, content_type=XLSX),
        )
    job = Job.objects.get(pk=job.pk)

    assert job.status == JobStatus.SUCCEEDED, job.errors[:5]
    assert job.errors == []
    assert job.result == {"created": ROWS}
    assert job.progress == job.total == ROWS
    assert shown(job.stage) == "完成"  # stored text, shown in the reader's language
    assert Student.objects.filter(school=school).count() == ROWS
    assert (
        Student.history.filter(
            school_id=school.pk, history_type="+", history_user=staff, history_change_reason="Excel导入学籍学生"
        ).count()
        == ROWS
    )

    # Progress while running: every report is out of the full total, counts never go back,
    # and the user saw many distinct steps before the job finished.
    assert updates, "the handler never reported progress"
    assert all(total == ROWS for _done, total, _stage in updates)
    done_values = [done for done, _total, _stage in updates]
    assert done_values == sorted(done_values)
    steps_before_completion = [done for done in done_values if done < ROWS]
    assert steps_before_completion == sorted(set(steps_before_completion)), "progress must strictly increase"
    assert len(steps_before_completion) > 10
    assert done_values[-1] == ROWS
    assert {stage for *_rest, stage in updates} >= {"校验数据", "写入数据"}
