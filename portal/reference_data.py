"""Loading the shipped reference fixtures (used by the data migration and by tests)."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture_rows(name: str) -> list[dict]:
    with open(FIXTURES / name, encoding="utf-8") as fh:
        return [row["fields"] for row in json.load(fh)]


def load_districts(district_model) -> None:
    for fields in fixture_rows("districts.json"):
        district_model.objects.update_or_create(code=fields["code"], defaults={"name": fields["name"]})


def load_occupations(occupation_model) -> None:
    for fields in fixture_rows("occupations.json"):
        key = {"code": fields["code"], "work_type": fields["work_type"]}
        occupation_model.objects.update_or_create(**key, defaults={k: v for k, v in fields.items() if k not in key})


def fix_fire_facility_operator_code(occupation_model) -> None:
    """消防设施操作员 is 4-07-05-03 in the 2022 edition; 4-07-05-04 is 安全防范系统安装维护员.

    The row keeps its key, so applications that name it follow the correction.
    """
    wrong = occupation_model.objects.filter(code="4-07-05-04", name="消防设施操作员")
    if occupation_model.objects.filter(code="4-07-05-03", work_type="").exists():
        wrong.update(is_active=False)
    else:
        wrong.update(code="4-07-05-03")


def load_majors(major_model, correspondence_model) -> None:
    """The catalogue majors of 职业教育专业目录（2021年） and their corresponding occupations."""
    majors = {}
    pk_to_code = {}
    for row in json.load(open(FIXTURES / "majors.json", encoding="utf-8")):
        fields = row["fields"]
        pk_to_code[row["pk"]] = fields["code"]
        majors[fields["code"]], _ = major_model.objects.update_or_create(
            code=fields["code"], defaults={k: v for k, v in fields.items() if k != "code"}
        )
    for fields in fixture_rows("major_occupations.json"):
        correspondence_model.objects.update_or_create(
            major=majors[pk_to_code[fields["major"]]],
            occupation_code=fields["occupation_code"],
            defaults={"source": fields["source"]},
        )
