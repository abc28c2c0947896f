"""Excel import and export of a batch's candidate list.

The import runs as a background job (``import_candidates``): every row is matched to a student of
the school (or of a school the institution has been opened to) by 学号 and checked against the ID
number in the file and every candidate rule (``assessments.services.candidates``). A file with any
wrong row writes nothing; each message names the row, the column and the rule.

It is built for files of 10,000 rows: the students, majors, openings, earlier candidacies and
barrings are loaded once (a fixed number of queries), and the candidacies are bulk-created.
"""

from __future__ import annotations

from io import BytesIO

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from assessments.models import EvaluationPlan
from assessments.services import candidates as candidate_services
from portal.excel import (
    TEXT_FORMAT,
    Column,
    RowErrors,
    build_template,
    cell_text,
    number_identifier_message,
    number_shown,
    read_sheet,
)
from portal.models import Job
from portal.services import JobFailed, JobKind, register_job_kind
from portal.validators import normalise_id_number
from portal.workflow import TransitionError
from schools.models import Major, Student

PROGRESS_EVERY = 1000
KIND = "import_candidates"

COLUMNS = (
    Column(
        "student_number", "学号", help="本校学籍中的学号；外校学生（本机构已面向其学校开放）填其本校学号", text=True
    ),
    Column("id_number", "证件号码", help="须与学籍登记的证件号码一致", text=True),
    Column("name", "姓名", required=False, help="选填；填写时须与学籍一致"),
)


def template() -> bytes:
    return build_template(COLUMNS, "考生名单")


def _lost_digits(value) -> bool:
    if isinstance(value, str):
        return number_shown(value) is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) >= 1e15 or (isinstance(value, float) and not value.is_integer())


class _Student:
    """The fields of a student the rules read: 10,000 of these load far faster than models."""

    __slots__ = (
        "pk",
        "school_id",
        "student_number",
        "name",
        "id_number",
        "expected_graduation",
        "through_stage",
        "stage_completed_on",
        "major_id",
        "major",
    )

    def __init__(self, *values):
        for slot, value in zip(self.__slots__, values, strict=True):
            setattr(self, slot, value)

    masked_id_number = Student.masked_id_number


def parse(data: bytes, plan: EvaluationPlan, progress=None) -> tuple[list[_Student], list[str]]:
    """The students of the file in row order, or the errors (then no students)."""
    errors = RowErrors()
    raw_rows = read_sheet(data, COLUMNS, errors)
    if errors:
        return [], errors.final()
    header = {c.key: c.header for c in COLUMNS}
    total = len(raw_rows)
    checker = candidate_services.CandidateChecker.load(plan, id_numbers=[])
    schools = [plan.institution.school_id, *checker.opened]
    pool = Student.objects.filter(school_id__in=schools)
    # The people the file may name: their candidacies and barrings, each in one query.
    checker.id_numbers = pool.values("id_number")
    checker._load_people()
    majors = {m.pk: m for m in Major.objects.filter(school_id__in=schools)}
    by_number: dict[str, list[_Student]] = {}
    for values in pool.values_list(*_Student.__slots__[:-1]):
        student = _Student(*values, None)
        student.major = majors[student.major_id]
        by_number.setdefault(student.student_number, []).append(student)
    own = plan.institution.school_id
    for group in by_number.values():
        group.sort(key=lambda s: s.school_id != own)  # the school's own student first
    students: list[_Student] = []
    seen: dict[int, int] = {}
    numeric_seen = False
    for done, (row, raw) in enumerate(raw_rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total, gettext_lazy("校验数据"))
        number = cell_text(raw.get("student_number"))
        id_text = cell_text(raw.get("id_number"))
        bad = False
        for key, value, text in (
            ("student_number", raw.get("student_number"), number),
            ("id_number", raw.get("id_number"), id_text),
        ):
            if not text:
                errors.add(row, header[key], _("不能为空。"))
                bad = True
            elif _lost_digits(value):
                shown = number_shown(value) or text
                errors.add(row, header[key], number_identifier_message(shown, again=numeric_seen))
                numeric_seen = bad = True
        if bad:
            continue
        group = by_number.get(number)
        if not group:
            errors.add(
                row,
                header["student_number"],
                _("本校（及已开放的外校）学籍中没有学号为“%(n)s”的学生。") % {"n": number},
            )
            continue
        id_number = normalise_id_number(id_text)
        student = next((s for s in group if s.id_number == id_number), None)
        if student is None:
            errors.add(
                row,
                header["id_number"],
                _("与学籍不一致：学号%(n)s（%(name)s）登记的证件号码为%(masked)s。")
                % {"n": number, "name": group[0].name, "masked": group[0].masked_id_number},
            )
            continue
        name = cell_text(raw.get("name"))
        if name and name != student.name:
            errors.add(
                row,
                header["name"],
                _("与学籍不一致：学号%(n)s登记的姓名为“%(name)s”。") % {"n": number, "name": student.name},
            )
        if student.pk in seen:
            errors.add(row, header["student_number"], _("与第%(r)s行是同一名学生。") % {"r": seen[student.pk]})
            continue
        seen[student.pk] = row
        for key, message in checker.problems(student):
            errors.add(row, header[key], message)
        students.append(student)
    if progress:
        progress(total, total, gettext_lazy("校验数据"))
    return ([] if errors else students), errors.final()


def import_file(*, plan: EvaluationPlan, actor, data: bytes, file_name: str = "", progress=None) -> dict:
    """Check and write one file in one transaction: all rows or none (raises ``JobFailed``)."""
    with transaction.atomic():
        locked = candidate_services._locked(plan)
        try:
            candidate_services._check_editable(locked, actor)
        except TransitionError as exc:
            raise JobFailed(exc.messages) from exc
        except PermissionDenied as exc:
            raise JobFailed([_("只有本校评价工作人员可以导入考生。")]) from exc
        students, errors = parse(data, locked, progress)
        if errors:
            raise JobFailed(errors)
        if progress:
            progress(0, len(students), gettext_lazy("写入数据"))
        created = candidate_services.candidates_import_write(
            plan=locked, actor=actor, student_ids=[s.pk for s in students], file_name=file_name
        )
    return {"created": created, "plan_id": plan.pk}


def run_import(job: Job, progress) -> dict:
    plan = EvaluationPlan.objects.select_related("institution__school", "occupation__occupation").get(
        pk=job.params["plan_id"]
    )
    with job.input_file.open("rb") as fh:
        data = fh.read()
    return import_file(plan=plan, actor=job.created_by, data=data, file_name=job.input_name, progress=progress)


def _may_import(user, params: dict) -> bool:
    plan = EvaluationPlan.objects.select_related("institution__school").filter(pk=params.get("plan_id")).first()
    return plan is not None and candidate_services.may_edit_candidates(user, plan)


def register_job_kinds() -> None:
    register_job_kind(
        KIND,
        JobKind(
            label=gettext_lazy("考生名单导入"),
            handler=run_import,
            may_start=_may_import,
            result_link=lambda job: reverse("assessments:plan_detail", args=[job.params["plan_id"]]),
        ),
    )


# --- Export ---------------------------------------------------------------------------------

EXPORT_HEADERS = (
    "序号",
    "学号",
    "姓名",
    "证件类型",
    "证件号码",
    "学校",
    "专业代码",
    "专业名称",
    "考试情况",
    "评价结果",
)


def export(plan: EvaluationPlan) -> bytes:
    """The candidate list as a workbook; identifier columns are text so Excel keeps every digit."""
    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = "考生名单"
    ws.append(list(EXPORT_HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    rows = plan.candidates.select_related("student__major", "student__school__organisation").order_by(
        "student__student_number"
    )
    for n, c in enumerate(rows.iterator(chunk_size=2000), start=1):
        s = c.student
        ws.append(
            [
                n,
                s.student_number,
                s.name,
                s.get_id_type_display(),
                s.id_number,
                s.school.organisation.name,
                s.major.code,
                s.major.name,
                c.get_attendance_display(),
                c.get_outcome_display() if c.outcome else "",
            ]
        )
    for letter in ("B", "E", "G"):
        ws.column_dimensions[letter].number_format = TEXT_FORMAT
        ws.column_dimensions[letter].width = 22
        for cell in ws[letter][1:]:
            cell.number_format = TEXT_FORMAT
    ws.freeze_panes = "A2"
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
