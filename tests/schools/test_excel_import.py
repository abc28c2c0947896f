"""Excel import of majors and students (schools.excel) through the background job.

Every test drives the import the way the app does: ``job_start`` with an uploaded file, the
on-commit hook runs the (eager) Celery task, then the Job is reloaded. A refused file must
name each problem by row and column header, and write nothing: no Student/Major and no
history row.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from portal.excel import TEXT_FORMAT, number_shown
from portal.models import Job, JobStatus, Role
from portal.services import job_start
from portal.validators import id_number_check_char
from schools.excel import MAJOR_COLUMNS, STUDENT_COLUMNS, major_template, student_template
from schools.models import IdType, Major, Student, ThroughStage, TrainingLevel
from tests import factories
from tests.conftest import client_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STUDENT_HEADERS = [c.header for c in STUDENT_COLUMNS]
MAJOR_HEADERS = [c.header for c in MAJOR_COLUMNS]
STUDENT_REASON = "Excel导入学籍学生"
MAJOR_REASON = "Excel导入专业"
NOT_XLSX = "文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传。"


# --- Builders --------------------------------------------------------------------------


def xlsx(rows: list[list], headers: list[str] | None = STUDENT_HEADERS) -> bytes:
    """An .xlsx workbook in memory: a header row (unless None) then ``rows``."""
    wb = Workbook()
    ws = wb.active
    if headers is not None:
        ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def valid_id(n: int, birth: dt.date = dt.date(2006, 5, 17)) -> str:
    first17 = f"310115{birth:%Y%m%d}{n:03d}"
    return first17 + id_number_check_char(first17)


def wrong_check_digit(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def student_row(n: int, major_code: str, **overrides) -> list:
    """One row in template column order; ``overrides`` are keyed by column key."""
    values = {
        "student_number": f"S{n:06d}",
        "name": f"学生{n}",
        "id_type": "居民身份证",
        "id_number": valid_id(n),
        "major_code": major_code,
        "enrolment_year": 2024,
        "expected_graduation": "2027-06-30",
        "through_stage": "",
    }
    values.update(overrides)
    return [values[c.key] for c in STUDENT_COLUMNS]


def upload(data: bytes, name: str = "学籍学生.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=XLSX)


def counts() -> tuple[int, int, int, int]:
    return Student.objects.count(), Student.history.count(), Major.objects.count(), Major.history.count()


# --- Fixtures --------------------------------------------------------------------------


@pytest.fixture
def staff(school):
    return factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)


@pytest.fixture
def major(school):
    return factories.major(school, code="460104", name="机电一体化技术")


@pytest.fixture
def run_import(django_capture_on_commit_callbacks, school, staff):
    """Start an import job as the school's staff, run it on commit, return the reloaded Job."""

    def run(data: bytes, *, kind: str = "import_students", name: str = "学籍学生.xlsx", actor=None, target=None) -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            job = job_start(
                kind=kind,
                actor=actor or staff,
                params={"school_id": (target or school).pk},
                upload=upload(data, name),
            )
        job.refresh_from_db()
        return job

    return run


@pytest.fixture
def refused(run_import, major):
    """Run a student import expected to fail; check nothing was written; return the errors."""

    def check(data: bytes, name: str = "学籍学生.xlsx") -> list[str]:
        before = counts()
        job = run_import(data, name=name)
        assert job.status == JobStatus.FAILED
        assert job.errors, "a failed import must tell the user why"
        assert job.result == {}
        assert counts() == before, "a refused file must write no Student, Major or history row"
        return job.errors

    return check


# --- Files that are not a usable workbook ----------------------------------------------


def test_a_pdf_renamed_to_xlsx_is_refused_as_not_an_excel_file(refused):
    assert refused(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "学生名单.xlsx") == [NOT_XLSX]


def test_csv_bytes_renamed_to_xlsx_are_refused_as_not_an_excel_file(refused):
    csv = ",".join(STUDENT_HEADERS) + "\nS000001,学生1,居民身份证,310115200605170011,460104,2024,2027-06-30,\n"
    assert refused(csv.encode("utf-8"), "学生名单.xlsx") == [NOT_XLSX]


def test_a_zip_archive_that_is_not_a_workbook_is_refused_as_not_an_excel_file(refused):
    import zipfile

    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("word/document.xml", "<document/>")
    assert refused(buffer.getvalue()) == [NOT_XLSX]


def damaged_workbook(part: str) -> bytes:
    """A real .xlsx whose ``part`` is cut short: still a zip, no longer a readable workbook."""
    import zipfile

    source = zipfile.ZipFile(BytesIO(xlsx([["S000001"] * len(STUDENT_HEADERS)])))
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in source.namelist():
            content = source.read(name)
            zf.writestr(name, content[:40] if name == part else content)
    return out.getvalue()


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml"])
def test_a_damaged_xlsx_is_refused_as_not_an_excel_file(refused, part):
    assert refused(damaged_workbook(part)) == [NOT_XLSX]


def test_an_empty_sheet_is_refused_and_asks_for_a_header_row(refused):
    assert refused(xlsx([], headers=None)) == ["工作表为空：第1行应为列名，第2行起为数据。"]


def test_a_sheet_with_only_the_header_row_is_refused_for_having_no_data_rows(refused):
    assert refused(xlsx([])) == ["工作表中没有数据行（第2行起）。"]


def test_a_sheet_whose_data_rows_are_all_blank_is_refused_for_having_no_data_rows(refused):
    assert refused(xlsx([[None] * 8, [""] * 8])) == ["工作表中没有数据行（第2行起）。"]


# --- Header row --------------------------------------------------------------------------


def test_an_unknown_column_name_is_named_with_its_position_and_the_column_it_replaced_is_missing(refused, major):
    headers = list(STUDENT_HEADERS)
    headers[1] = "学生姓名"
    errors = refused(xlsx([student_row(1, major.code)], headers=headers))
    assert errors == [
        "第1行「学生姓名」：无法识别的列名（第2列），请使用模板中的列名。",
        "第1行「姓名」：缺少此列。",
    ]


def test_missing_required_columns_are_each_named(refused, major):
    headers = [h for h in STUDENT_HEADERS if h not in {"证件号码", "入学年份"}]
    row = [v for h, v in zip(STUDENT_HEADERS, student_row(1, major.code), strict=True) if h in headers]
    errors = refused(xlsx([row], headers=headers))
    assert errors == ["第1行「证件号码」：缺少此列。", "第1行「入学年份」：缺少此列。"]


def test_a_missing_optional_column_is_still_reported_because_the_template_has_it(refused, major):
    headers = STUDENT_HEADERS[:-1]
    errors = refused(xlsx([student_row(1, major.code)[:-1]], headers=headers))
    assert errors == ["第1行「贯通培养阶段」：缺少此列。"]


def test_a_duplicated_column_name_is_refused(refused, major):
    headers = [*STUDENT_HEADERS, "姓名"]
    errors = refused(xlsx([[*student_row(1, major.code), "学生1"]], headers=headers))
    assert errors == ["第1行「姓名」：列名重复。"]


def test_columns_in_another_order_are_read_by_their_header(run_import, major):
    order = list(reversed(range(len(STUDENT_HEADERS))))
    headers = [STUDENT_HEADERS[i] for i in order]
    row = student_row(1, major.code)
    job = run_import(xlsx([[row[i] for i in order]], headers=headers))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    student = Student.objects.get()
    assert (student.student_number, student.name, student.id_number) == ("S000001", "学生1", valid_id(1))


# --- Identity documents ------------------------------------------------------------------


def test_a_resident_id_with_a_wrong_check_digit_is_refused_naming_row_and_column(refused, major):
    rows = [student_row(1, major.code), student_row(2, major.code, id_number=wrong_check_digit(valid_id(2)))]
    assert refused(xlsx(rows)) == ["第3行「证件号码」：身份证号码校验位错误。"]


def test_a_resident_id_with_an_impossible_birth_date_is_refused(refused, major):
    first17 = "310115" + "20061345" + "001"  # month 13
    bad = first17 + id_number_check_char(first17)
    assert refused(xlsx([student_row(1, major.code, id_number=bad)])) == [
        "第2行「证件号码」：身份证号码中的出生日期无效。"
    ]


def test_a_resident_id_born_in_the_future_is_refused(refused, major):
    future = dt.date.today() + dt.timedelta(days=400)
    bad = valid_id(1, birth=future)
    assert refused(xlsx([student_row(1, major.code, id_number=bad)])) == [
        "第2行「证件号码」：身份证号码中的出生日期无效。"
    ]


def test_a_resident_id_of_the_wrong_length_is_refused(refused, major):
    assert refused(xlsx([student_row(1, major.code, id_number="31011520060517001")])) == [
        "第2行「证件号码」：身份证号码应为18位（前17位为数字，末位为数字或X）。"
    ]


def test_an_id_type_outside_the_list_is_refused_with_the_allowed_values(refused, major):
    errors = refused(xlsx([student_row(1, major.code, id_type="学生证")]))
    assert len(errors) == 1
    assert errors[0].startswith("第2行「证件类型」：“学生证”不是可选值（居民身份证、")


def test_a_lower_case_check_character_x_is_accepted_and_stored_upper_case(run_import, major):
    n = next(i for i in range(1000) if valid_id(i).endswith("X"))
    job = run_import(xlsx([student_row(n, major.code, id_number=valid_id(n).lower())]))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert Student.objects.get().id_number == valid_id(n)


def test_a_passport_number_is_not_checked_against_gb_11643(run_import, major):
    job = run_import(xlsx([student_row(1, major.code, id_type="护照", id_number="E12345678")]))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert Student.objects.get().id_type == IdType.PASSPORT


# --- Duplicates ------------------------------------------------------------------------


def test_a_student_number_repeated_in_the_file_is_refused_naming_the_first_row(refused, major):
    rows = [
        student_row(1, major.code),
        student_row(2, major.code),
        student_row(3, major.code, student_number="S000001"),
    ]
    assert refused(xlsx(rows)) == ["第4行「学号」：与第2行的学号重复。"]


def test_an_id_number_repeated_in_the_file_is_refused_naming_the_first_row(refused, major):
    rows = [student_row(1, major.code), student_row(2, major.code), student_row(3, major.code, id_number=valid_id(2))]
    assert refused(xlsx(rows)) == ["第4行「证件号码」：与第3行的证件号码重复。"]


def test_a_student_already_on_the_school_roll_is_refused_by_id_number_and_student_number(refused, major):
    existing = factories.student(major, n=7)
    rows = [
        student_row(1, major.code),
        student_row(8, major.code, id_number=existing.id_number),
        student_row(9, major.code, student_number=existing.student_number),
    ]
    errors = refused(xlsx(rows))
    assert errors == ["第3行「证件号码」：该证件号码的学生已在本校学籍中。", "第4行「学号」：该学号已在本校学籍中。"]
    assert list(Student.objects.all()) == [existing]


def test_the_same_student_on_another_school_roll_does_not_block_the_import(run_import, major, other_school):
    elsewhere = factories.student(factories.major(other_school, code=major.code), n=1)
    job = run_import(xlsx([student_row(1, major.code)]))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert Student.objects.filter(id_number=elsewhere.id_number).count() == 2


# --- Majors, years, dates, through-programmes --------------------------------------------


def test_an_unknown_major_code_is_refused_and_asks_to_import_the_major_first(refused, major):
    assert refused(xlsx([student_row(1, "999999")])) == [
        "第2行「专业代码」：本校没有专业代码为“999999”的在办专业，请先导入专业。"
    ]


def test_a_major_of_another_school_is_unknown_here(refused, major, other_school):
    factories.major(other_school, code="530701")
    assert refused(xlsx([student_row(1, "530701")])) == [
        "第2行「专业代码」：本校没有专业代码为“530701”的在办专业，请先导入专业。"
    ]


def test_a_closed_major_is_not_offered_for_new_students(refused, school):
    Major.objects.create(
        school=school, code="460105", name="已停办专业", training_level=TrainingLevel.HIGHER, is_active=False
    )
    assert refused(xlsx([student_row(1, "460105")])) == [
        "第2行「专业代码」：本校没有专业代码为“460105”的在办专业，请先导入专业。"
    ]


@pytest.mark.parametrize("year", ["24", "1999", "二〇二四", str(dt.date.today().year + 2)])
def test_an_enrolment_year_outside_2000_to_next_year_is_refused(refused, major, year):
    assert refused(xlsx([student_row(1, major.code, enrolment_year=year, expected_graduation="2030-06-30")])) == [
        "第2行「入学年份」：应为2000年至明年之间的四位年份。"
    ]


def test_an_enrolment_year_written_with_superscript_or_other_non_decimal_digits_is_a_row_error(refused, major):
    # "2024²".isdigit() is True but int() refuses it: the row must be reported, not crash the job.
    assert refused(xlsx([student_row(1, major.code, enrolment_year="2024²")])) == [
        "第2行「入学年份」：应为2000年至明年之间的四位年份。"
    ]


def test_an_enrolment_year_in_full_width_digits_is_read(run_import, major):
    job = run_import(xlsx([student_row(1, major.code, enrolment_year="２０２４")]))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert Student.objects.get().enrolment_year == 2024


@pytest.mark.parametrize("value", ["明年六月", "2027-13-01", "2027-02-30", "30/06/2027"])
def test_an_unreadable_graduation_date_is_refused(refused, major, value):
    assert refused(xlsx([student_row(1, major.code, expected_graduation=value)])) == [
        "第2行「预计毕业时间」：日期格式应为 2027-06-30。"
    ]


def test_a_graduation_date_not_after_the_enrolment_year_is_refused(refused, major):
    assert refused(xlsx([student_row(1, major.code, enrolment_year=2024, expected_graduation="2024-06-30")])) == [
        "第2行「预计毕业时间」：预计毕业时间应晚于入学年份。"
    ]


def test_graduation_dates_typed_as_excel_dates_or_with_slashes_are_read(run_import, major):
    rows = [
        student_row(1, major.code, expected_graduation=dt.datetime(2027, 6, 30)),
        student_row(2, major.code, expected_graduation="2027/6/30"),
        student_row(3, major.code, expected_graduation="2027.06.30"),
    ]
    job = run_import(xlsx(rows))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert set(Student.objects.values_list("expected_graduation", flat=True)) == {dt.date(2027, 6, 30)}


def test_empty_required_cells_are_each_reported(refused, major):
    row = student_row(1, major.code, name="", enrolment_year=None)
    assert refused(xlsx([row])) == ["第2行「姓名」：不能为空。", "第2行「入学年份」：不能为空。"]


def test_a_through_programme_stage_on_an_ordinary_major_is_refused(refused, major):
    assert refused(xlsx([student_row(1, major.code, through_stage="中职阶段")])) == [
        "第2行「贯通培养阶段」：该专业不是贯通培养专业，不应填写贯通培养阶段。"
    ]


def test_a_student_of_a_through_programme_major_must_have_a_stage(refused, school):
    through = factories.major(school, code="660301", level=TrainingLevel.SECONDARY, through=True)
    assert refused(xlsx([student_row(1, through.code)])) == [
        "第2行「贯通培养阶段」：贯通培养专业的学生须填写贯通培养阶段。"
    ]


def test_an_unknown_through_stage_is_refused_with_the_allowed_values(refused, school):
    through = factories.major(school, code="660301", level=TrainingLevel.SECONDARY, through=True)
    assert refused(xlsx([student_row(1, through.code, through_stage="初中阶段")])) == [
        "第2行「贯通培养阶段」：“初中阶段”不是可选值（中职阶段、高职阶段、本科阶段）。"
    ]


def test_a_through_programme_student_with_a_stage_is_imported(run_import, school):
    through = factories.major(school, code="660301", level=TrainingLevel.SECONDARY, through=True)
    job = run_import(xlsx([student_row(1, through.code, through_stage="高职阶段")]))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert Student.objects.get().through_stage == ThroughStage.HIGHER


# --- All or nothing ----------------------------------------------------------------------


def test_one_bad_row_among_many_good_rows_writes_nothing(refused, major):
    rows = [student_row(n, major.code) for n in range(1, 301)]
    rows[149] = student_row(150, major.code, id_number=wrong_check_digit(valid_id(150)))
    assert refused(xlsx(rows)) == ["第151行「证件号码」：身份证号码校验位错误。"]
    assert Student.objects.count() == 0


def test_row_numbers_stay_those_excel_shows_when_blank_rows_are_left_between_students(refused, major):
    wb = Workbook()
    ws = wb.active
    ws.append(STUDENT_HEADERS)
    ws.append(student_row(1, major.code))
    for col, value in enumerate(student_row(2, major.code, id_number=wrong_check_digit(valid_id(2))), start=1):
        ws.cell(row=6, column=col, value=value)  # rows 3 to 5 are left blank
    buffer = BytesIO()
    wb.save(buffer)
    assert refused(buffer.getvalue()) == ["第6行「证件号码」：身份证号码校验位错误。"]


def test_every_error_in_a_file_is_listed_in_row_order(refused, major):
    rows = [
        student_row(1, major.code, id_number=wrong_check_digit(valid_id(1))),
        student_row(2, "000000"),
        student_row(3, major.code, enrolment_year="1999", expected_graduation="2030-06-30"),
    ]
    assert refused(xlsx(rows)) == [
        "第2行「证件号码」：身份证号码校验位错误。",
        "第3行「专业代码」：本校没有专业代码为“000000”的在办专业，请先导入专业。",
        "第4行「入学年份」：应为2000年至明年之间的四位年份。",
    ]


def test_a_file_with_hundreds_of_errors_lists_two_hundred_and_counts_the_rest(refused, major):
    rows = [student_row(n, "000000") for n in range(1, 251)]
    errors = refused(xlsx(rows))
    assert len(errors) == 201
    assert errors[0] == "第2行「专业代码」：本校没有专业代码为“000000”的在办专业，请先导入专业。"
    assert errors[-1] == "……另有50处错误未列出。"


# --- Happy paths -------------------------------------------------------------------------


def test_students_import_with_history_rows_carrying_the_acting_user_and_reason(run_import, staff, school, major):
    rows = [student_row(n, major.code) for n in range(1, 6)]
    job = run_import(xlsx(rows))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.errors == []
    assert job.result == {"created": 5}
    assert job.progress == job.total == 5
    assert job.finished_at is not None
    students = Student.objects.filter(school=school).order_by("student_number")
    assert [s.student_number for s in students] == [f"S{n:06d}" for n in range(1, 6)]
    first = students[0]
    assert (
        first.name,
        first.id_type,
        first.id_number,
        first.major,
        first.enrolment_year,
        first.expected_graduation,
        first.through_stage,
    ) == ("学生1", IdType.RESIDENT_ID, valid_id(1), major, 2024, dt.date(2027, 6, 30), "")
    history = Student.history.all()
    assert history.count() == 5
    assert set(history.values_list("history_type", "history_user", "history_change_reason")) == {
        ("+", staff.pk, STUDENT_REASON)
    }


def test_the_downloaded_student_template_round_trips_when_filled_in(run_import, staff, major):
    wb = load_workbook(BytesIO(student_template()))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == STUDENT_HEADERS
    ws.append(student_row(1, major.code))
    ws.append(student_row(2, major.code, id_type="护照", id_number="E7654321"))
    buffer = BytesIO()
    wb.save(buffer)
    job = run_import(buffer.getvalue())
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result == {"created": 2}
    assert Student.history.filter(history_user=staff, history_change_reason=STUDENT_REASON).count() == 2


def test_the_empty_template_itself_is_refused_for_having_no_data_rows(refused):
    assert refused(student_template()) == ["工作表中没有数据行（第2行起）。"]


def test_majors_are_created_then_updated_by_a_second_import(run_import, staff, school):
    first = xlsx(
        [["460104", "机电一体化技术", "高职专科", "否"], ["460301", "工业机器人技术", "高职专科", ""]],
        headers=MAJOR_HEADERS,
    )
    job = run_import(first, kind="import_majors", name="专业.xlsx")
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result == {"created": 2, "updated": 0}
    assert dict(Major.objects.filter(school=school).values_list("code", "name")) == {
        "460104": "机电一体化技术",
        "460301": "工业机器人技术",
    }

    second = xlsx(
        [
            ["460104", "机电一体化技术（智能制造方向）", "高职专科", "否"],
            ["510201", "计算机应用技术", "高职专科", "否"],
        ],
        headers=MAJOR_HEADERS,
    )
    job = run_import(second, kind="import_majors", name="专业.xlsx")
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result == {"created": 1, "updated": 1}
    assert dict(Major.objects.filter(school=school).values_list("code", "name")) == {
        "460104": "机电一体化技术（智能制造方向）",
        "460301": "工业机器人技术",
        "510201": "计算机应用技术",
    }
    history = Major.history.filter(code="460104").order_by("history_date", "history_id")
    assert [h.history_type for h in history] == ["+", "~"]
    assert {(h.history_user_id, h.history_change_reason) for h in Major.history.all()} == {(staff.pk, MAJOR_REASON)}
    assert Major.history.count() == 4


def test_a_major_file_with_a_repeated_code_or_bad_level_writes_no_major(run_import, school):
    data = xlsx(
        [["460104", "机电一体化技术", "高职专科", "否"], ["460104", "机电一体化技术", "大专", "也许"]],
        headers=MAJOR_HEADERS,
    )
    job = run_import(data, kind="import_majors", name="专业.xlsx")
    assert job.status == JobStatus.FAILED
    assert job.errors == [
        "第3行「培养层次」：“大专”不是可选值（中职、高职专科、职业本科）。",
        "第3行「是否贯通培养」：请填写“是”或“否”。",
        "第3行「专业代码」：与第2行的专业代码重复。",
    ]
    assert Major.objects.count() == 0 and Major.history.count() == 0


# --- Who may import ----------------------------------------------------------------------


def test_staff_of_another_school_cannot_start_an_import_for_this_school(school, other_school, major):
    outsider = factories.user(Role.SCHOOL_STAFF, organisation=other_school.organisation)
    with pytest.raises(PermissionDenied):
        job_start(
            kind="import_students",
            actor=outsider,
            params={"school_id": school.pk},
            upload=upload(xlsx([student_row(1, major.code)])),
        )
    assert Job.objects.count() == 0
    assert Student.objects.count() == 0


def test_a_district_officer_cannot_start_an_import_for_a_school_in_the_district(people, school, major):
    with pytest.raises(PermissionDenied):
        job_start(
            kind="import_students",
            actor=people[Role.DISTRICT_HR_OFFICER],
            params={"school_id": school.pk},
            upload=upload(xlsx([student_row(1, major.code)])),
        )
    assert Job.objects.count() == 0


def test_an_import_for_a_school_that_does_not_exist_is_refused(staff):
    with pytest.raises(PermissionDenied):
        job_start(kind="import_students", actor=staff, params={"school_id": 987654}, upload=upload(b"x"))


# --- Views -------------------------------------------------------------------------------


def test_the_import_page_opens_for_school_staff_and_a_posted_file_redirects_to_the_job_page(
    django_capture_on_commit_callbacks, staff, school, major
):
    client = client_for(staff)
    url = f"/schools/{school.pk}/students/import/"
    page = client.get(url)
    assert page.status_code == 200
    assert 'type="file"' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": upload(xlsx([student_row(1, major.code)]))})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert (job.kind, job.created_by, job.params, job.status) == (
        "import_students",
        staff,
        {"school_id": school.pk},
        JobStatus.SUCCEEDED,
    )
    assert Student.objects.filter(school=school).count() == 1


def test_the_job_page_lists_each_error_of_a_refused_file(django_capture_on_commit_callbacks, staff, school, major):
    client = client_for(staff)
    bad = xlsx([student_row(1, major.code), student_row(2, major.code, id_number=wrong_check_digit(valid_id(2)))])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/schools/{school.pk}/students/import/", {"file": upload(bad)})
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-status="failed"' in html
    assert 'data-testid="job-errors"' in html
    assert "<li>第3行「证件号码」：身份证号码校验位错误。</li>" in html
    assert "没有写入任何数据" in html
    assert Student.objects.count() == 0


def test_a_csv_upload_is_refused_by_the_form_and_starts_no_job(staff, school):
    client = client_for(staff)
    csv = SimpleUploadedFile("students.csv", ",".join(STUDENT_HEADERS).encode(), content_type="text/csv")
    response = client.post(f"/schools/{school.pk}/students/import/", {"file": csv})
    assert response.status_code == 200
    assert "只接受 .xlsx 格式的 Excel 文件。" in response.content.decode()
    assert Job.objects.count() == 0


def test_staff_of_another_school_cannot_open_this_schools_import_page(school, other_school):
    outsider = factories.user(Role.SCHOOL_STAFF, organisation=other_school.organisation)
    response = client_for(outsider).get(f"/schools/{school.pk}/students/import/")
    assert response.status_code in {403, 404}


def test_the_student_template_downloads_as_xlsx_for_school_staff(staff):
    response = client_for(staff).get("/schools/templates/students.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(BytesIO(response.content))
    assert [c.value for c in wb.worksheets[0][1]] == STUDENT_HEADERS
    assert wb.sheetnames[1] == "填写说明"


def test_the_student_template_is_forbidden_to_a_district_officer(people):
    response = client_for(people[Role.DISTRICT_HR_OFFICER]).get("/schools/templates/students.xlsx")
    assert response.status_code == 403


# --- Identifiers that Excel turned into numbers (issue 7, item 13) -----------------------
# Typed into a General cell, an 18-digit ID number becomes 3.1011E+17 and loses its last digits.
# The templates format identifier columns as text; when a number arrives anyway, the message says
# exactly that, with row, column and how to fix it, not a wrong check digit on every row.

HOW_TO_FIX = "请把这一列的单元格格式设为“文本”后重新输入号码，或使用下载的模板（号码列已设为文本）填写。"


def column_formats(data: bytes, columns) -> dict[str, str]:
    ws = load_workbook(BytesIO(data)).worksheets[0]
    letters = {cell.value: cell.column_letter for cell in ws[1]}
    return {c.header: ws.column_dimensions[letters[c.header]].number_format for c in columns}


def test_the_student_template_formats_the_id_number_student_number_and_major_code_columns_as_text():
    formats = column_formats(student_template(), STUDENT_COLUMNS)
    assert formats["证件号码"] == TEXT_FORMAT
    assert formats["学号"] == TEXT_FORMAT
    assert formats["专业代码"] == TEXT_FORMAT
    assert formats["姓名"] == "General"


def test_the_major_template_formats_the_major_code_as_text():
    assert column_formats(major_template(), MAJOR_COLUMNS)["专业代码"] == TEXT_FORMAT


def test_the_template_filled_with_18_digit_ids_as_text_imports(run_import, major):
    wb = load_workbook(BytesIO(student_template()))
    ws = wb.worksheets[0]
    for n in range(1, 4):
        ws.append(student_row(n, major.code))
    buffer = BytesIO()
    wb.save(buffer)
    job = run_import(buffer.getvalue())
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert sorted(Student.objects.values_list("id_number", flat=True)) == [valid_id(n) for n in range(1, 4)]


def test_an_id_number_stored_as_a_float_is_named_as_a_number_with_row_column_and_the_fix(refused, major):
    as_excel_keeps_it = float(valid_id(1)[:15] + "000")  # 15 significant digits, the rest 0
    errors = refused(xlsx([student_row(1, major.code, id_number=as_excel_keeps_it)]))
    assert errors == [
        "第2行「证件号码」：该号码被 Excel 存成了数字（显示为 3.1012E+17），超过15位的数字会丢失末尾几位，无法还原。"
        + HOW_TO_FIX
    ]
    assert "校验" not in errors[0]


def test_an_id_number_stored_as_an_int_is_refused_the_same_way(refused, major):
    errors = refused(xlsx([student_row(1, major.code, id_number=int(valid_id(1)[:17] + "0"))]))
    assert len(errors) == 1
    assert errors[0].startswith("第2行「证件号码」：该号码被 Excel 存成了数字（显示为 3.1012E+17）")


def test_an_id_number_in_scientific_notation_as_text_is_named_as_a_number(refused, major):
    errors = refused(xlsx([student_row(1, major.code, id_number="3.10115E+17")]))
    assert len(errors) == 1 and "该号码被 Excel 存成了数字（显示为 3.10115E+17）" in errors[0]


def test_many_rows_of_numbers_say_how_to_fix_once_and_never_speak_of_a_check_digit(refused, major):
    rows = [student_row(n, major.code, id_number=float(valid_id(n))) for n in range(1, 6)]
    errors = refused(xlsx(rows))
    assert len(errors) == 5
    assert HOW_TO_FIX in errors[0]
    again = "「证件号码」：同样被 Excel 存成了数字"
    assert [e[: e.index("：") + 1] for e in errors[1:]] == [f"第{n}行「证件号码」：" for n in range(3, 7)]
    assert all(again in e for e in errors[1:])
    assert not any("校验" in e for e in errors)


def test_a_student_number_that_lost_digits_is_named_as_a_number(refused, major):
    errors = refused(xlsx([student_row(1, major.code, student_number=2024460104000001.0)]))
    assert errors == [
        "第2行「学号」：该号码被 Excel 存成了数字（显示为 2.0245E+15），超过15位的数字会丢失末尾几位，无法还原。"
        + HOW_TO_FIX
    ]


def test_a_short_student_number_typed_as_a_number_is_kept_as_its_digits(run_import, major):
    job = run_import(xlsx([student_row(1, major.code, student_number=2024001)]))
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert Student.objects.get().student_number == "2024001"


@pytest.mark.parametrize(
    ("value", "shown"),
    [(310115200605170000.0, "3.1012E+17"), (310115200605170000, "3.1012E+17"), ("3.1E+17", "3.1E+17"), (12, "12")],
)
def test_number_shown_reads_like_excel(value, shown):
    assert number_shown(value) == shown


@pytest.mark.parametrize("value", ["310115200605170011", "S000001", None, True])
def test_text_identifiers_are_not_numbers(value):
    assert number_shown(value) is None


def test_the_import_notification_names_the_file(run_import, major, staff):
    from portal.i18n import shown
    from portal.models import Notification

    run_import(xlsx([student_row(1, major.code)]), name="2026届学籍.xlsx")
    notification = Notification.objects.get(recipient=staff)
    assert shown(notification.title) == "学籍学生导入已完成"
    assert shown(notification.body) == "文件：“2026届学籍.xlsx”"
