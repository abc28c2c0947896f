"""Excel import of majors and students: templates, row checks and the background jobs.

A file is refused as a whole when any row is wrong: every message names the row (as Excel
numbers it) and the column, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.excel import (
    NO,
    YES,
    Column,
    RowErrors,
    build_template,
    cell_text,
    choice,
    number_identifier_message,
    number_shown,
    read_sheet,
    required_text,
    sheet_label,
)
from portal.models import Job
from portal.services import JobFailed, JobKind, register_job_kind
from portal.validators import normalise_id_number
from schools.models import IdType, Major, School, Student, ThroughStage, TrainingLevel, validate_id
from schools.services import major_import, may_manage_school_records, student_import

PROGRESS_EVERY = 250

MAJOR_COLUMNS = (
    Column("code", "专业代码", help="教育部专业目录代码，如 460104", text=True),
    Column("name", "专业名称"),
    Column("training_level", "培养层次", choices=tuple(sheet_label(c) for c in TrainingLevel)),
    Column(
        "is_through_programme",
        "是否贯通培养",
        required=False,
        choices=(YES, NO),
        help="留空即不改变；贯通培养专业须在平台“贯通培养专业”页面登记并上传批准文件",
    ),
)

STUDENT_COLUMNS = (
    Column("student_number", "学号", text=True),
    Column("name", "姓名"),
    Column("id_type", "证件类型", choices=tuple(sheet_label(c) for c in IdType)),
    Column("id_number", "证件号码", help="居民身份证按 GB 11643 校验末位校验码", text=True),
    Column("major_code", "专业代码", help="须为本校已登记的专业", text=True),
    Column("enrolment_year", "入学年份", help="四位年份，如 2024"),
    Column("expected_graduation", "预计毕业时间", help="日期，如 2027-06-30"),
    Column(
        "through_stage",
        "贯通培养阶段",
        required=False,
        choices=tuple(sheet_label(c) for c in ThroughStage),
        help="仅贯通培养专业填写",
    ),
)


# --- Templates -------------------------------------------------------------------------


def major_template() -> bytes:
    return build_template(MAJOR_COLUMNS, "专业")


def student_template() -> bytes:
    return build_template(STUDENT_COLUMNS, "学籍学生")


# --- Majors ----------------------------------------------------------------------------


def parse_majors(data: bytes, school: School) -> tuple[list[dict], list[str]]:
    errors = RowErrors()
    raw_rows = read_sheet(data, MAJOR_COLUMNS, errors)
    cols = {c.key: c for c in MAJOR_COLUMNS}
    rows, seen = [], {}
    # A through-programme is recorded with its approval document on its own page, never from Excel.
    recorded = dict(Major.objects.filter(school=school).values_list("code", "is_through_programme"))
    for number, raw in raw_rows:
        text = required_text(raw, MAJOR_COLUMNS, number, errors)
        level = (
            choice(text["training_level"], TrainingLevel, cols["training_level"], number, errors)
            if text["training_level"]
            else None
        )
        code = text["code"]
        is_through = recorded.get(code, False)
        through = text["is_through_programme"] or (YES if is_through else NO)
        if through not in (YES, NO):
            errors.add(number, cols["is_through_programme"].header, _("请填写“是”或“否”。"))
        elif through == YES and not is_through:
            errors.add(
                number,
                cols["is_through_programme"].header,
                _("贯通培养专业须在“贯通培养专业”页面登记并上传批准文件，不能通过 Excel 设置。请先填“否”导入。"),
            )
        elif through == NO and is_through:
            errors.add(
                number,
                cols["is_through_programme"].header,
                _("该专业已登记为贯通培养专业；如需撤销，请在“贯通培养专业”页面办理。"),
            )
        if code and code in seen:
            errors.add(number, cols["code"].header, _("与第%(r)s行的专业代码重复。") % {"r": seen[code]})
        seen.setdefault(code, number)
        rows.append({"code": code, "name": text["name"], "training_level": level, "is_through_programme": is_through})
    return rows, errors.final()


# --- Students --------------------------------------------------------------------------


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value).replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            parsed = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return parsed
    return None


def _lost_digits(value: Any) -> bool:
    """A student number that Excel can no longer hold exactly (15+ digits, or scientific notation).

    Shorter numbers typed into a General cell (2024001) arrive as exact integers and are kept.
    """
    if isinstance(value, str):
        return number_shown(value) is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) >= 1e15 or (isinstance(value, float) and not value.is_integer())


def parse_students(
    data: bytes, school: School, progress: Callable[[int, int, str], None] | None = None
) -> tuple[list[dict], list[str]]:
    errors = RowErrors()
    raw_rows = read_sheet(data, STUDENT_COLUMNS, errors)
    if errors:
        return [], errors.final()
    cols = {c.key: c for c in STUDENT_COLUMNS}
    majors = {m.code: m for m in Major.objects.filter(school=school, is_active=True)}
    known_numbers = set(Student.objects.filter(school=school).values_list("student_number", flat=True))
    known_ids = set(Student.objects.filter(school=school).values_list("id_type", "id_number"))
    seen_numbers: dict[str, int] = {}
    seen_ids: dict[tuple[str, str], int] = {}
    rows: list[dict] = []
    total = len(raw_rows)
    this_year = dt.date.today().year
    numeric_seen = False  # the first number-for-an-identifier message says how to fix it; later ones refer to it
    for done, (number, raw) in enumerate(raw_rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total, _("校验数据"))
        text = required_text(raw, STUDENT_COLUMNS, number, errors)
        id_type = choice(text["id_type"], IdType, cols["id_type"], number, errors) if text["id_type"] else None
        id_number = normalise_id_number(text["id_number"])
        shown = number_shown(raw.get("id_number"))
        if shown is not None:
            # Not a wrong check digit: Excel turned the number into a float and lost digits.
            errors.add(number, cols["id_number"].header, number_identifier_message(shown, again=numeric_seen))
            numeric_seen = True
        elif id_type and id_number:
            try:
                validate_id(id_type, id_number)
            except ValidationError as exc:
                errors.add(number, cols["id_number"].header, " ".join(exc.messages))
            key = (id_type, id_number)
            if key in seen_ids:
                errors.add(number, cols["id_number"].header, _("与第%(r)s行的证件号码重复。") % {"r": seen_ids[key]})
            elif key in known_ids:
                errors.add(number, cols["id_number"].header, _("该证件号码的学生已在本校学籍中。"))
            seen_ids.setdefault(key, number)
        student_number = text["student_number"]
        if _lost_digits(raw.get("student_number")):
            shown = number_shown(raw["student_number"]) or ""
            errors.add(number, cols["student_number"].header, number_identifier_message(shown, again=numeric_seen))
            numeric_seen = True
        elif student_number:
            if student_number in seen_numbers:
                errors.add(
                    number,
                    cols["student_number"].header,
                    _("与第%(r)s行的学号重复。") % {"r": seen_numbers[student_number]},
                )
            elif student_number in known_numbers:
                errors.add(number, cols["student_number"].header, _("该学号已在本校学籍中。"))
            seen_numbers.setdefault(student_number, number)
        major = majors.get(text["major_code"])
        if text["major_code"] and major is None:
            errors.add(
                number,
                cols["major_code"].header,
                _("本校没有专业代码为“%(c)s”的在办专业，请先导入专业。") % {"c": text["major_code"]},
            )
        enrolment_year = None
        if text["enrolment_year"]:
            if text["enrolment_year"].isdecimal() and 2000 <= int(text["enrolment_year"]) <= this_year + 1:
                enrolment_year = int(text["enrolment_year"])
            else:
                errors.add(number, cols["enrolment_year"].header, _("应为2000年至明年之间的四位年份。"))
        graduation = None
        if text["expected_graduation"]:
            graduation = _parse_date(raw.get("expected_graduation"))
            if graduation is None:
                errors.add(number, cols["expected_graduation"].header, _("日期格式应为 2027-06-30。"))
            elif enrolment_year and graduation.year <= enrolment_year:
                errors.add(number, cols["expected_graduation"].header, _("预计毕业时间应晚于入学年份。"))
        stage = ""
        if text["through_stage"]:
            stage = choice(text["through_stage"], ThroughStage, cols["through_stage"], number, errors) or ""
            if major is not None and not major.is_through_programme:
                errors.add(number, cols["through_stage"].header, _("该专业不是贯通培养专业，不应填写贯通培养阶段。"))
        elif major is not None and major.is_through_programme:
            errors.add(number, cols["through_stage"].header, _("贯通培养专业的学生须填写贯通培养阶段。"))
        if not errors:
            rows.append(
                {
                    "student_number": student_number,
                    "name": text["name"],
                    "id_type": id_type,
                    "id_number": id_number,
                    "major": major,
                    "enrolment_year": enrolment_year,
                    "expected_graduation": graduation,
                    "through_stage": stage,
                }
            )
    if progress:
        progress(total, total, _("校验数据"))
    return ([] if errors else rows), errors.final()


# --- Jobs ------------------------------------------------------------------------------


def _job_school(job: Job) -> School:
    return School.objects.select_related("organisation").get(pk=job.params["school_id"])


def _read_upload(job: Job) -> bytes:
    with job.input_file.open("rb") as fh:
        return fh.read()


def run_major_import(job: Job, progress) -> dict:
    school = _job_school(job)
    rows, errors = parse_majors(_read_upload(job), school)
    if errors:
        raise JobFailed(errors)
    progress(0, len(rows), _("写入数据"))
    return major_import(school=school, actor=job.created_by, rows=rows)


def run_student_import(job: Job, progress) -> dict:
    school = _job_school(job)
    rows, errors = parse_students(_read_upload(job), school, progress)
    if errors:
        raise JobFailed(errors)
    progress(len(rows), len(rows), _("写入数据"))
    return student_import(school=school, actor=job.created_by, rows=rows)


def _may_import(user, params: dict) -> bool:
    school = School.objects.filter(pk=params.get("school_id")).first()
    return school is not None and may_manage_school_records(user, school)


def register_job_kinds() -> None:
    register_job_kind(
        "import_majors",
        JobKind(
            label=gettext_lazy("专业导入"),
            handler=run_major_import,
            may_start=_may_import,
            result_link=lambda job: reverse("schools:major_list", args=[job.params["school_id"]]),
        ),
    )
    register_job_kind(
        "import_students",
        JobKind(
            label=gettext_lazy("学籍学生导入"),
            handler=run_student_import,
            may_start=_may_import,
            result_link=lambda job: reverse("schools:student_list", args=[job.params["school_id"]]),
        ),
    )
