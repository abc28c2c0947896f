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
