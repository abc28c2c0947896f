"""Roster sharing (/oversight/roster/…): the commission's graduating-student roster, its import and
template, the reconciliation report and its two exports — every URL as every role, GET and POST.

The commission and its departments import (a POST starts a job); everyone who reads schools opens
the list, the report and the exports (the rows narrowed to their schools, never a 404: a roster is
shared, its rows are scoped); experts and quality supervisors hold no role for these pages (403).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from portal.access import SCHOOL_VIEWER_ROLES
from portal.models import Role
from tests.access_expectations import ANON, READ_ONLY, Post, Writes

READERS = {str(r) for r in SCHOOL_VIEWER_ROLES}
IMPORTERS = {Role.COMMISSION_OFFICER.value, Role.COMMISSION_DEPT_OFFICER.value}


def _for(ok: int, roles: set[str], other: int = 403) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, ANON: 302}


def build_objects(objects: dict, people: dict) -> dict:
    from io import BytesIO

    from openpyxl import Workbook

    from oversight.services import roster as service

    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "证件号码", "学校", "专业", "专业代码"])
    for s in (objects["student"], objects["other_student"]):
        ws.append([s.name, s.id_number, s.school.organisation.name, s.major.name, s.major.code])
    out = BytesIO()
    wb.save(out)
    roster = service.roster_import(
        actor=people[Role.COMMISSION_OFFICER], school_year=2026, data=out.getvalue(), file_name="名册.xlsx"
    )
    return {"roster": roster}


def _upload(objects: dict) -> dict:
    from oversight.services import roster as service

    return {"school_year": "2026", "file": SimpleUploadedFile("名册.xlsx", service.template())}


EXPECTATIONS = {
    "oversight:roster_list": (None, _for(200, READERS)),
    "oversight:roster_import": (None, _for(200, IMPORTERS)),
    "oversight:roster_template": (None, _for(200, IMPORTERS)),
    "oversight:roster_detail": ("roster", _for(200, READERS)),
    "oversight:roster_export_edu": ("roster", _for(200, READERS)),
    "oversight:roster_export_hr": ("roster", _for(200, READERS)),
}

POST_EXPECTATIONS = {
    "oversight:roster_list": READ_ONLY,
    "oversight:roster_import": [
        Post(None, _for(Writes(302), IMPORTERS), data=_upload, note="a job is started"),
        Post(None, _for(200, IMPORTERS), data={"school_year": "2026"}, note="no file: the form again"),
    ],
    "oversight:roster_template": READ_ONLY,
    "oversight:roster_detail": READ_ONLY,
    "oversight:roster_export_edu": READ_ONLY,
    "oversight:roster_export_hr": READ_ONLY,
}
