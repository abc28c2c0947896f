"""Excel import of majors and students: templates, row checks and the background jobs.

A file is refused as a whole when any row is wrong: every message names the row (as Excel
numbers it) and the column, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from portal.models import Job
from portal.services import JobFailed, JobKind, register_job_kind
from portal.validators import normalise_id_number
from schools.models import IdType, Major, School, Student, ThroughStage, TrainingLevel, validate_id
from schools.services import major_import, may_manage_school_records, student_import

MAX_ROWS = 20_000
MAX_LISTED_ERRORS = 200
PROGRESS_EVERY = 250


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = True
    help: str = ""
    choices: tuple[str, ...] = ()


YES, NO = "是", "否"

MAJOR_COLUMNS = (
    Column("code", "专业代码", help="教育部专业目录代码，如 460104"),
    Column("name", "专业名称"),
    Column("training_level", "培养层次", choices=tuple(str(c.label) for c in TrainingLevel)),
    Column("is_through_programme", "是否贯通培养", required=False, choices=(YES, NO), help="留空视为“否”"),
)

STUDENT_COLUMNS = (
    Column("student_number", "学号"),
    Column("name", "姓名"),
    Column("id_type", "证件类型", choices=tuple(str(c.label) for c in IdType)),
    Column("id_number", "证件号码", help="居民身份证按 GB 11643 校验末位校验码"),
    Column("major_code", "专业代码", help="须为本校已登记的专业"),
    Column("enrolment_year", "入学年份", help="四位年份，如 2024"),
    Column("expected_graduation", "预计毕业时间", help="日期，如 2027-06-30"),
    Column("through_stage", "贯通培养阶段", required=False, choices=tuple(str(c.label) for c in ThroughStage),
           help="仅贯通培养专业填写"),
)


class RowErrors:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.count = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.count += 1
        if len(self.messages) >= MAX_LISTED_ERRORS:
            return
        where = []
        if row is not None:
            where.append(_("第%(row)s行") % {"row": row})
        if column:
            where.append(f"「{column}」")
        self.messages.append(("".join(where) + "：" if where else "") + message)

    def final(self) -> list[str]:
        extra = self.count - len(self.messages)
        if extra > 0:
            return [*self.messages, _("……另有%(n)s处错误未列出。") % {"n": extra}]
        return self.messages

    def __bool__(self) -> bool:
        return self.count > 0


# --- Templates -------------------------------------------------------------------------


def build_template(columns: tuple[Column, ...], title: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for idx, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=idx, value=col.header)
        cell.font = Font(bold=True, color="C00000" if col.required else "000000")
        cell.fill = header_fill
        ws.column_dimensions[cell.column_letter].width = max(14, len(col.header) * 3)
        if col.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"', allow_blank=not col.required)
            dv.add(f"{cell.column_letter}2:{cell.column_letter}{MAX_ROWS + 1}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "说明", "可选值"])
    for col in columns:
        notes.append([col.header, "必填" if col.required else "选填", col.help, "、".join(col.choices)])
    notes.append([])
    notes.append(["从第2行起每行一条记录；请勿修改第1行列名。文件中任何一行有误，整个文件都不会导入。"])
    notes.column_dimensions["C"].width = 40
    notes.column_dimensions["D"].width = 40
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def major_template() -> bytes:
    return build_template(MAJOR_COLUMNS, "专业")


def student_template() -> bytes:
    return build_template(STUDENT_COLUMNS, "学籍学生")


# --- Reading ---------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()


def read_sheet(data: bytes, columns: tuple[Column, ...], errors: RowErrors) -> list[tuple[int, dict[str, Any]]]:
    """Rows of the first sheet as (excel_row_number, {key: raw value}); file-level problems go to errors."""
    if not zipfile.is_zipfile(BytesIO(data)):
        errors.add(None, None, _("文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传。"))
        return []
    try:
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        errors.add(None, None, _("文件不是有效的 Excel（.xlsx）文件，请使用下载的模板填写后上传。"))
        return []
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header_row = next(rows, None)
    headers = [_cell_text(v) for v in (header_row or ())]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        errors.add(None, None, _("工作表为空：第1行应为列名，第2行起为数据。"))
        return []
    known = {c.header: c for c in columns}
    for position, header in enumerate(headers, start=1):
        if header and header not in known:
            errors.add(1, header, _("无法识别的列名（第%(n)s列），请使用模板中的列名。") % {"n": position})
    duplicates = {h for h in headers if h and headers.count(h) > 1}
    for header in sorted(duplicates):
        errors.add(1, header, _("列名重复。"))
    missing = [c.header for c in columns if c.header not in headers]
    for header in missing:
        errors.add(1, header, _("缺少此列。"))
    if errors:
        return []
    index = {h: i for i, h in enumerate(headers) if h}
    out: list[tuple[int, dict[str, Any]]] = []
    for number, values in enumerate(rows, start=2):
        values = tuple(values or ())
        if all(_cell_text(v) == "" for v in values):
            continue
        if len(out) >= MAX_ROWS:
            errors.add(number, None, _("超过单个文件 %(max)s 行的上限，请拆分后分别导入。") % {"max": MAX_ROWS})
            return []
        out.append(
            (number, {c.key: values[index[c.header]] if index[c.header] < len(values) else None for c in columns})
        )
    wb.close()
    if not out:
        errors.add(None, None, _("工作表中没有数据行（第2行起）。"))
    return out


def _choice(value: str, choices_enum, column: Column, row: int, errors: RowErrors) -> str | None:
    for member in choices_enum:
        if value == str(member.label):
            return member.value
    errors.add(row, column.header, _("“%(v)s”不是可选值（%(c)s）。") % {"v": value, "c": "、".join(column.choices)})
    return None


def _required(raw: dict, columns: tuple[Column, ...], row: int, errors: RowErrors) -> dict[str, str]:
    text = {c.key: _cell_text(raw.get(c.key)) for c in columns}
    for c in columns:
        if c.required and not text[c.key]:
            errors.add(row, c.header, _("不能为空。"))
    return text


# --- Majors ----------------------------------------------------------------------------


def parse_majors(data: bytes, school: School) -> tuple[list[dict], list[str]]:
    errors = RowErrors()
    raw_rows = read_sheet(data, MAJOR_COLUMNS, errors)
    cols = {c.key: c for c in MAJOR_COLUMNS}
    rows, seen = [], {}
    for number, raw in raw_rows:
        text = _required(raw, MAJOR_COLUMNS, number, errors)
        level = _choice(text["training_level"], TrainingLevel, cols["training_level"], number, errors) if text[
            "training_level"] else None
        through = text["is_through_programme"] or NO
        if through not in (YES, NO):
            errors.add(number, cols["is_through_programme"].header, _("请填写“是”或“否”。"))
        code = text["code"]
        if code and code in seen:
            errors.add(number, cols["code"].header, _("与第%(r)s行的专业代码重复。") % {"r": seen[code]})
        seen.setdefault(code, number)
        if level == TrainingLevel.SECONDARY and through == YES and not school.has_through_programme:
            errors.add(number, cols["is_through_programme"].header, _("学校未登记开设贯通培养专业。"))
        rows.append({"code": code, "name": text["name"], "training_level": level, "is_through_programme": through == YES})
    return rows, errors.final()


# --- Students --------------------------------------------------------------------------


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _cell_text(value).replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y-%m"):
        try:
            parsed = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return parsed
    return None


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
    for done, (number, raw) in enumerate(raw_rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total, _("校验数据"))
        text = _required(raw, STUDENT_COLUMNS, number, errors)
        id_type = _choice(text["id_type"], IdType, cols["id_type"], number, errors) if text["id_type"] else None
        id_number = normalise_id_number(text["id_number"])
        if id_type and id_number:
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
        if student_number:
            if student_number in seen_numbers:
                errors.add(number, cols["student_number"].header,
                           _("与第%(r)s行的学号重复。") % {"r": seen_numbers[student_number]})
            elif student_number in known_numbers:
                errors.add(number, cols["student_number"].header, _("该学号已在本校学籍中。"))
            seen_numbers.setdefault(student_number, number)
        major = majors.get(text["major_code"])
        if text["major_code"] and major is None:
            errors.add(number, cols["major_code"].header,
                       _("本校没有专业代码为“%(c)s”的在办专业，请先导入专业。") % {"c": text["major_code"]})
        enrolment_year = None
        if text["enrolment_year"]:
            if text["enrolment_year"].isdigit() and 2000 <= int(text["enrolment_year"]) <= this_year + 1:
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
            stage = _choice(text["through_stage"], ThroughStage, cols["through_stage"], number, errors) or ""
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
