"""Excel import of the occupation catalogue (职业分类大典) by a system administrator."""

from __future__ import annotations

import re

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.excel import NO, YES, Column, RowErrors, build_template, choice, read_sheet, required_text, sheet_label
from portal.models import Job, OccupationKind, Role
from portal.services import JobFailed, JobKind, occupation_import, register_job_kind

CODE_RE = re.compile(r"^[1-8]-\d{2}-\d{2}-\d{2}$")

OCCUPATION_COLUMNS = (
    Column("code", "职业编码", help="大类-中类-小类-细类，如 6-18-02-04"),
    Column("name", "职业名称"),
    Column("work_type", "工种/职业方向", required=False, help="无工种时留空"),
    Column("kind", "类别", choices=tuple(sheet_label(c) for c in OccupationKind)),
    Column("is_access_type", "准入类职业资格", choices=(YES, NO)),
    Column("national_standard", "国家职业技能标准", required=False, help="标准名称；尚未颁布的留空"),
    Column("standard_year", "标准版本年份", required=False, help="四位年份"),
    Column("source", "数据来源", required=False),
)


def occupation_template() -> bytes:
    return build_template(OCCUPATION_COLUMNS, "职业（工种）")


def parse_occupations(data: bytes) -> tuple[list[dict], list[str]]:
    errors = RowErrors()
    cols = {c.key: c for c in OCCUPATION_COLUMNS}
    rows, seen = [], {}
    for number, raw in read_sheet(data, OCCUPATION_COLUMNS, errors):
        text = required_text(raw, OCCUPATION_COLUMNS, number, errors)
        if text["code"] and not CODE_RE.match(text["code"]):
            errors.add(number, cols["code"].header, _("编码格式应为“大类-中类-小类-细类”，如 6-18-02-04。"))
        kind = choice(text["kind"], OccupationKind, cols["kind"], number, errors) if text["kind"] else None
        if text["is_access_type"] and text["is_access_type"] not in (YES, NO):
            errors.add(number, cols["is_access_type"].header, _("请填写“是”或“否”。"))
        year = None
        if text["standard_year"]:
            if text["standard_year"].isdigit() and 1990 <= int(text["standard_year"]) <= 2100:
                year = int(text["standard_year"])
            else:
                errors.add(number, cols["standard_year"].header, _("应为四位年份。"))
        key = (text["code"], text["work_type"])
        if key in seen:
            errors.add(number, cols["code"].header, _("与第%(r)s行的职业（工种）重复。") % {"r": seen[key]})
        seen.setdefault(key, number)
        rows.append(
            {
                "code": text["code"],
                "name": text["name"],
                "work_type": text["work_type"],
                "major_group": int(text["code"][0]) if text["code"][:1].isdigit() else 0,
                "kind": kind,
                "is_access_type": text["is_access_type"] == YES,
                "national_standard": text["national_standard"],
                "standard_year": year,
                "source": text["source"],
            }
        )
    return ([] if errors else rows), errors.final()


def run_occupation_import(job: Job, progress) -> dict:
    with job.input_file.open("rb") as fh:
        rows, errors = parse_occupations(fh.read())
    if errors:
        raise JobFailed(errors)
    progress(len(rows), len(rows), _("写入数据"))
    return occupation_import(actor=job.created_by, rows=rows)


def register_job_kinds() -> None:
    register_job_kind(
        "import_occupations",
        JobKind(
            label=gettext_lazy("职业（工种）目录导入"),
            handler=run_occupation_import,
            may_start=lambda user, params: user.is_superuser or user.has_role(Role.SYSTEM_ADMIN),
            result_link=lambda job: reverse("occupation_list"),
        ),
    )
