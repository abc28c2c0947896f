"""Excel imports of reference data by a system administrator: the occupation catalogue (职业分类大典)
and the major–occupation correspondence (职业教育专业目录（2021年） majors and their occupations)."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.excel import NO, YES, Column, RowErrors, build_template, choice, read_sheet, required_text, sheet_label
from portal.models import CatalogueMajor, Job, MajorLevel, MajorOccupation, Occupation, OccupationKind, Role, User
from portal.services import JobFailed, JobKind, occupation_import, record, register_job_kind, upsert_rows

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


# --- Major–occupation correspondence --------------------------------------------------------

MAJOR_CODE_RE = re.compile(r"^\d{6}K?$")

MAJOR_OCCUPATION_COLUMNS = (
    Column("major_code", "专业代码", help="《职业教育专业目录（2021年）》六位专业代码，如 460301"),
    Column("major_name", "专业名称"),
    Column("level", "培养层次", choices=tuple(sheet_label(c) for c in MajorLevel)),
    Column("category", "专业大类", help="如 装备制造大类"),
    Column("major_class", "专业类", help="如 自动化类"),
    Column("occupation_code", "职业编码", help="该专业对应的职业，须已在职业（工种）目录中，如 6-31-01-03"),
    Column("source", "数据来源", help="对应关系的依据，如《职业教育专业简介（2022年修订）》职业面向"),
)
MAJOR_FIELDS = ("major_name", "level", "category", "major_class")


def major_occupation_template() -> bytes:
    return build_template(MAJOR_OCCUPATION_COLUMNS, "专业与职业对应")


def parse_major_occupations(data: bytes) -> tuple[list[dict], list[str]]:
    """One row per (catalogue major, occupation); a major on several rows must read the same on each."""
    errors = RowErrors()
    cols = {c.key: c for c in MAJOR_OCCUPATION_COLUMNS}
    known_occupations = set(Occupation.objects.filter(is_active=True).values_list("code", flat=True))
    rows, majors, pairs = [], {}, {}
    for number, raw in read_sheet(data, MAJOR_OCCUPATION_COLUMNS, errors):
        text = required_text(raw, MAJOR_OCCUPATION_COLUMNS, number, errors)
        code, occupation_code = text["major_code"], text["occupation_code"]
        if code and not MAJOR_CODE_RE.match(code):
            errors.add(
                number,
                cols["major_code"].header,
                _("专业代码应为《职业教育专业目录（2021年）》的六位代码，如 460301。"),
            )
        level = choice(text["level"], MajorLevel, cols["level"], number, errors) if text["level"] else None
        if occupation_code and not CODE_RE.match(occupation_code):
            errors.add(number, cols["occupation_code"].header, _("编码格式应为“大类-中类-小类-细类”，如 6-18-02-04。"))
        elif occupation_code and occupation_code not in known_occupations:
            errors.add(
                number,
                cols["occupation_code"].header,
                _("职业编码%(code)s不在职业（工种）目录中，请先导入该职业。") % {"code": occupation_code},
            )
        major = {"major_name": text["major_name"], "level": level, "category": text["category"]}
        major["major_class"] = text["major_class"]
        first = majors.setdefault(code, (number, major))
        if code and first[0] != number and first[1] != major:
            errors.add(
                number,
                cols["major_code"].header,
                _("专业%(code)s的名称、培养层次、专业大类或专业类与第%(r)s行不一致。") % {"code": code, "r": first[0]},
            )
        pair = (code, occupation_code)
        if pair in pairs:
            errors.add(number, cols["occupation_code"].header, _("与第%(r)s行的对应关系重复。") % {"r": pairs[pair]})
        pairs.setdefault(pair, number)
        rows.append({"major_code": code, **major, "occupation_code": occupation_code, "source": text["source"]})
    return ([] if errors else rows), errors.final()


def major_occupation_import(*, actor: User, rows: list[dict]) -> dict:
    """Catalogue majors are created or updated by code; for each major in the file, its corresponding
    occupations become exactly those of the file (correspondences no longer listed are removed, with
    history). All or nothing."""
    if not (actor.is_superuser or actor.has_role(Role.SYSTEM_ADMIN)):
        raise PermissionDenied
    reason = _("Excel导入专业与职业对应关系")
    majors = {}
    for row in rows:
        majors.setdefault(
            row["major_code"],
            {
                "code": row["major_code"],
                "name": row["major_name"],
                "level": row["level"],
                "category": row["category"],
                "major_class": row["major_class"],
                "is_active": True,
            },
        )
    with transaction.atomic():
        major_counts = upsert_rows(
            queryset=CatalogueMajor.objects.all(), key=("code",), rows=list(majors.values()), actor=actor, reason=reason
        )
        by_code = {m.code: m for m in CatalogueMajor.objects.filter(code__in=majors)}
        link_rows = [
            {"major": by_code[r["major_code"]], "occupation_code": r["occupation_code"], "source": r["source"]}
            for r in rows
        ]
        link_counts = upsert_rows(
            queryset=MajorOccupation.objects.filter(major__in=by_code.values()).select_related("major"),
            key=("major", "occupation_code"),
            rows=link_rows,
            actor=actor,
            reason=reason,
        )
        listed = {(r["major_code"], r["occupation_code"]) for r in rows}
        removed = 0
        for link in MajorOccupation.objects.filter(major__in=by_code.values()).select_related("major"):
            if (link.major.code, link.occupation_code) not in listed:
                record(link, actor=actor, reason=reason)
                link.delete()
                removed += 1
    return {
        "majors_created": major_counts["created"],
        "majors_updated": major_counts["updated"],
        "created": link_counts["created"],
        "updated": link_counts["updated"],
        "removed": removed,
    }


def run_major_occupation_import(job: Job, progress) -> dict:
    with job.input_file.open("rb") as fh:
        rows, errors = parse_major_occupations(fh.read())
    if errors:
        raise JobFailed(errors)
    progress(len(rows), len(rows), _("写入数据"))
    return major_occupation_import(actor=job.created_by, rows=rows)


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
    register_job_kind(
        "import_major_occupations",
        JobKind(
            label=gettext_lazy("专业与职业对应关系导入"),
            handler=run_major_occupation_import,
            may_start=lambda user, params: user.is_superuser or user.has_role(Role.SYSTEM_ADMIN),
            result_link=lambda job: reverse("major_catalogue"),
        ),
    )
