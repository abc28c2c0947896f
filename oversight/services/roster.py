"""The education commission's graduating-student roster (信息共享; notice main text 二(四)2:
人力资源社会保障部门和教育部门要及时共享职业学校毕业学年学生信息和获证信息，加强信息审核校验).

The commission (市教委经办人, 职能部门经办人) imports the roster of one school year from Excel as a
background job (``import_roster``): all rows or none, each bad row named by its row and column in
Chinese (GB 11643 ID numbers, duplicates within the file, school names the portal does not know).
Each row is matched at import to its school (by name) and to the school's student record (by ID
number); the reconciliation against candidates and certificates is ``oversight.selectors.roster``.
A newer import of the same school year supersedes the older one.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from oversight.models import RosterEntry, RosterImport
from portal.excel import (
    Column,
    RowErrors,
    build_template,
    cell_text,
    number_identifier_message,
    number_shown,
    read_sheet,
)
from portal.models import Job, Role, User
from portal.services import JobFailed, JobKind, register_job_kind
from portal.validators import normalise_id_number, validate_resident_id_number
from schools.models import School, Student

KIND = "import_roster"
IMPORT_ROLES = (Role.COMMISSION_OFFICER, Role.COMMISSION_DEPT_OFFICER)
PROGRESS_EVERY = 1000
CHUNK = 2000

COLUMNS = (
    Column("name", "姓名", help="与学籍一致"),
    Column("id_number", "证件号码", help="18位居民身份证号码（GB 11643），末位X大写", text=True),
    Column("school_name", "学校", help="学校全称或简称，须与本平台登记的学校名称一致"),
    Column("major_name", "专业", help="专业名称"),
    Column("major_code", "专业代码", required=False, help="选填；填写时按专业代码核对，否则按专业名称核对", text=True),
)
LIMITS = {"name": 60, "school_name": 120, "major_name": 120, "major_code": 20}


def may_import(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.has_role(*IMPORT_ROLES)))


def template() -> bytes:
    return build_template(COLUMNS, "毕业学年学生名册")


def _schools_by_name() -> dict[str, int]:
    names: dict[str, int] = {}
    for pk, name, short in School.objects.values_list("pk", "organisation__name", "organisation__short_name"):
        names[name] = pk
        if short:
            names.setdefault(short, pk)
    return names


def _students_by_id(id_numbers: list[str]) -> dict[str, list[tuple[int, int]]]:
    """ID number -> [(student pk, school pk)], in a fixed number of queries per ``CHUNK`` rows."""
    out: dict[str, list[tuple[int, int]]] = {}
    for start in range(0, len(id_numbers), CHUNK):
        chunk = id_numbers[start : start + CHUNK]
        for pk, school_id, id_number in Student.objects.filter(id_number__in=chunk).values_list(
            "pk", "school_id", "id_number"
        ):
            out.setdefault(id_number, []).append((pk, school_id))
    return out


def id_number_problem(id_number: str) -> str:
    """"" when the ID number is acceptable: a resident ID (all digits, or digits and X) must pass
    GB 11643; other documents (permits, passports: letters and digits) need 5 to 30 characters."""
    if id_number.rstrip("X").isdigit():
        try:
            validate_resident_id_number(id_number)
        except ValidationError as exc:
            return exc.messages[0]
        return ""
    if not (5 <= len(id_number) <= 30 and id_number.isalnum() and id_number.isascii()):
        return _("证件号码应为18位居民身份证号码，或5至30位字母和数字（港澳台及外籍人员证件）。")
    return ""


def _lost_digits(value) -> bool:
    """An ID number Excel stored as a number (its last digits are gone) or as scientific notation."""
    if isinstance(value, str):
        return number_shown(value) is not None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) >= 1e15 or (isinstance(value, float) and not value.is_integer())


def parse(data: bytes, progress=None) -> tuple[list[dict], list[str]]:
    """The file's rows (each with its school and student matched), or the errors (then no rows)."""
    errors = RowErrors()
    raw_rows = read_sheet(data, COLUMNS, errors)
    if errors:
        return [], errors.final()
    header = {c.key: c.header for c in COLUMNS}
    schools = _schools_by_name()
    total = len(raw_rows)
    rows: list[dict] = []
    seen: dict[str, int] = {}
    numeric_seen = False
    for done, (number, raw) in enumerate(raw_rows, start=1):
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, total, gettext_lazy("校验数据"))
        text = {c.key: cell_text(raw.get(c.key)) for c in COLUMNS}
        bad = False
        for c in COLUMNS:
            if c.required and not text[c.key]:
                errors.add(number, c.header, _("不能为空。"))
                bad = True
            elif len(text[c.key]) > LIMITS.get(c.key, 30):
                errors.add(number, c.header, _("不能超过%(n)s个字符。") % {"n": LIMITS[c.key]})
                bad = True
        id_raw = raw.get("id_number")
        if text["id_number"] and _lost_digits(id_raw):
            shown = number_shown(id_raw) or text["id_number"]
            errors.add(number, header["id_number"], number_identifier_message(shown, again=numeric_seen))
            numeric_seen = bad = True
        id_number = normalise_id_number(text["id_number"])
        if text["id_number"] and not bad:
            problem = id_number_problem(id_number)
            if problem:
                errors.add(number, header["id_number"], problem)
                bad = True
        if id_number and id_number in seen:
            errors.add(number, header["id_number"], _("与第%(r)s行的证件号码重复。") % {"r": seen[id_number]})
            bad = True
        elif id_number:
            seen[id_number] = number
        school_id = schools.get(text["school_name"])
        if text["school_name"] and school_id is None:
            errors.add(
                number,
                header["school_name"],
                _("本平台没有名为“%(name)s”的学校，请填写学校全称或简称。") % {"name": text["school_name"][:40]},
            )
            bad = True
        if bad:
            continue
        rows.append(
            {
                "row_number": number,
                "id_number": id_number,
                "name": text["name"],
                "school_name": text["school_name"],
                "major_name": text["major_name"],
                "major_code": text["major_code"],
                "school_id": school_id,
            }
        )
    if progress:
        progress(total, total, gettext_lazy("校验数据"))
    if errors:
        return [], errors.final()
    students = _students_by_id([r["id_number"] for r in rows])
    for r in rows:
        matches = students.get(r["id_number"], [])
        same_school = [pk for pk, school in matches if school == r["school_id"]]
        r["student_id"] = same_school[0] if same_school else (matches[0][0] if matches else None)
    return rows, []


def roster_import(
    *, actor: User, school_year: int, data: bytes, file_name: str = "", job: Job | None = None, progress=None
) -> RosterImport:
    """Check and write one file in one transaction: all rows or none (``ValidationError`` with every message)."""
    if not may_import(actor):
        raise PermissionDenied
    rows, errors = parse(data, progress)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        roster = RosterImport(
            school_year=school_year, original_name=file_name[:200], row_count=len(rows), uploaded_by=actor, job=job
        )
        roster.save()
        if progress:
            progress(0, len(rows), gettext_lazy("写入数据"))
        RosterEntry.objects.bulk_create(
            [
                RosterEntry(
                    roster=roster,
                    row_number=r["row_number"],
                    id_number=r["id_number"],
                    name=r["name"],
                    school_name=r["school_name"],
                    major_name=r["major_name"],
                    major_code=r["major_code"],
                    school_id=r["school_id"],
                    student_id=r["student_id"],
                )
                for r in rows
            ],
            batch_size=1000,
        )
        if progress:
            progress(len(rows), len(rows), gettext_lazy("写入数据"))
    return roster


def run_import(job: Job, progress) -> dict:
    with job.input_file.open("rb") as fh:
        data = fh.read()
    try:
        roster = roster_import(
            actor=job.created_by,
            school_year=int(job.params["school_year"]),
            data=data,
            file_name=job.input_name,
            job=job,
            progress=progress,
        )
    except ValidationError as exc:
        raise JobFailed(exc.messages) from exc
    except PermissionDenied as exc:
        raise JobFailed([_("只有市教委经办人可以导入毕业学年学生名册。")]) from exc
    return {"roster_id": roster.pk, "created": roster.row_count}


def register_job_kinds() -> None:
    register_job_kind(
        KIND,
        JobKind(
            label=gettext_lazy("毕业学年学生名册导入"),
            handler=run_import,
            may_start=lambda user, params: may_import(user),
            result_link=lambda job: (
                reverse("oversight:roster_detail", args=[job.result["roster_id"]])
                if job.result.get("roster_id")
                else ""
            ),
        ),
    )
