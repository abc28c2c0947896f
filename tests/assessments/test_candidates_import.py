"""Excel import of a batch's candidates: a background job, all or nothing, row-level messages."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from assessments import candidate_import
from assessments.models import BarredKind, Barring, Candidate, CandidateOpening, PlanStatus
from portal.i18n import shown
from portal.models import Job, JobStatus, Role
from portal.services import job_start
from schools.models import Student
from tests import factories
from tests.assessments.candidate_builders import GRADUATION, MAJOR_CODE, filed_batch, unique_id

pytestmark = pytest.mark.django_db
HEADERS = [c.header for c in candidate_import.COLUMNS]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def batch():
    return filed_batch()


def many_students(batch, count: int, *, start: int = 1, **fields) -> list[Student]:
    rows = [
        Student(
            school=batch.school,
            major=batch.major,
            student_number=f"S{n:06d}",
            name=f"学生{n}",
            id_number=unique_id(n),
            enrolment_year=2024,
            expected_graduation=GRADUATION,
            **fields,
        )
        for n in range(start, start + count)
    ]
    return Student.objects.bulk_create(rows, batch_size=2000)


def workbook(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def rows_for(students) -> list[list]:
    return [[s.student_number, s.id_number, s.name] for s in students]


@pytest.fixture
def run(django_capture_on_commit_callbacks, batch):
    def start(data: bytes, *, actor=None, plan=None) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            job = job_start(
                kind=candidate_import.KIND,
                actor=actor or batch.staff,
                params={"plan_id": (plan or batch.plan).pk},
                upload=SimpleUploadedFile("考生名单.xlsx", data),
            )
        job.refresh_from_db()
        return job

    return start


def test_the_template_formats_the_id_columns_as_text():
    wb = load_workbook(BytesIO(candidate_import.template()))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.column_dimensions["A"].number_format == "@"
    assert ws.column_dimensions["B"].number_format == "@"


def test_a_good_file_adds_every_row_through_the_job(batch, run):
    students = many_students(batch, 3)
    job = run(workbook(rows_for(students)))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result["created"] == 3
    assert set(Candidate.objects.values_list("student_id", flat=True)) == {s.pk for s in students}
    history = Candidate.history.filter(history_user=batch.staff, history_type="+")
    assert sorted(history.values_list("student_id", flat=True)) == sorted(s.pk for s in students)
    assert all("考生名单.xlsx" in shown(h.history_change_reason) for h in history)
    assert job.progress == job.total == 3


def test_a_bad_row_writes_nothing_and_names_row_and_column(batch, run):
    students = many_students(batch, 4)
    later = batch.student(99, expected_graduation=dt.date(2028, 6, 30))
    Barring.objects.create(
        kind=BarredKind.CANDIDATE,
        id_number=students[3].id_number,
        starts_on=dt.date(2026, 1, 1),
        reason="违纪",
        decided_by=batch.centre,
    )
    rows = rows_for(students[:3]) + [
        ["S999999", unique_id(5000), ""],  # row 5: unknown 学号
        [students[1].student_number, unique_id(5001), ""],  # row 6: ID not as registered
        [later.student_number, later.id_number, later.name],  # row 7: not graduating this year
        [students[0].student_number, students[0].id_number, "别人"],  # row 8: name differs, and a repeat of row 2
        [students[3].student_number, students[3].id_number, students[3].name],  # row 9: barred
    ]
    job = run(workbook(rows))
    assert job.status == JobStatus.FAILED
    assert not Candidate.objects.exists()
    errors = job.errors
    text = "\n".join(errors)
    assert "第5行「学号」：" in text and "没有学号为“S999999”的学生" in text
    assert "第6行「证件号码」：与学籍不一致" in text
    assert "第7行「学号」：学号S000099 学生99：不是毕业学年学生" in text
    assert "第8行「姓名」：与学籍不一致" in text and "第8行「学号」：与第2行是同一名学生" in text
    assert "第9行「证件号码」：学号S000004 学生4：自2026-01-01起被禁止参加" in text


def test_an_id_number_saved_as_a_number_is_explained(batch, run):
    [student] = many_students(batch, 1)
    job = run(workbook([[student.student_number, 310115200501010011, ""]]))
    assert job.status == JobStatus.FAILED
    assert "第2行「证件号码」：该号码被 Excel 存成了数字" in job.errors[0]


def test_other_schools_students_are_found_once_the_institution_is_opened(batch, run):
    other_school = factories.school()
    other_major = factories.major(other_school, code=MAJOR_CODE)
    outsider = batch.student(7, major=other_major, student_number="T0001")
    job = run(workbook(rows_for([outsider])))
    assert job.status == JobStatus.FAILED and "没有学号为“T0001”的学生" in job.errors[0]
    CandidateOpening.objects.create(
        institution=batch.institution,
        school=other_school,
        decided_on=dt.date(2026, 11, 1),
        reference="沪职鉴〔2026〕8号",
        centre_officer=batch.centre,
        commission_dept_officer=factories.user(Role.COMMISSION_DEPT_OFFICER),
    )
    job = run(workbook(rows_for([outsider])))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert Candidate.objects.get().student == outsider


def test_only_the_schools_staff_import_into_an_editable_plan(batch, run):
    from django.core.exceptions import PermissionDenied

    students = many_students(batch, 2)
    with pytest.raises(PermissionDenied):
        run(workbook(rows_for(students)), actor=batch.centre)
    batch.plan.status = PlanStatus.SUBMITTED
    batch.plan.save()
    with pytest.raises(PermissionDenied):
        run(workbook(rows_for(students)))
    assert not Candidate.objects.exists()


def test_the_import_reads_the_database_a_fixed_number_of_times(batch):
    small, large = many_students(batch, 5), many_students(batch, 400, start=100)
    counts = []
    for students in (small, large):
        data = workbook(rows_for(students))
        with CaptureQueriesContext(connection) as ctx:
            parsed, errors = candidate_import.parse(data, batch.plan)
        assert not errors and len(parsed) == len(students)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_a_10000_row_file_imports_through_the_job_with_progress(batch, run):
    students = many_students(batch, 10_000)
    job = run(workbook(rows_for(students)))
    assert job.status == JobStatus.SUCCEEDED, job.errors[:3]
    assert job.result["created"] == 10_000 and job.progress == job.total == 10_000
    assert Candidate.objects.filter(plan=batch.plan).count() == 10_000


def test_a_bad_10000_row_file_writes_nothing(batch, run):
    students = many_students(batch, 10_000)
    rows = rows_for(students)
    rows[9_998][1] = unique_id(200_000)  # row 10,000: ID not as registered
    job = run(workbook(rows))
    assert job.status == JobStatus.FAILED
    wrong = students[9_998]
    assert job.errors == [
        f"第10000行「证件号码」：与学籍不一致：学号{wrong.student_number}（学生9999）登记的证件号码为"
        f"{wrong.masked_id_number}。"
    ]
    assert not Candidate.objects.exists() and not Candidate.history.exists()
