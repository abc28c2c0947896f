"""Through-programme majors (/schools/<pk>/through-programmes/): every school viewer reads them,
only the school's own staff record or withdraw one (issue 7, item 14)."""

from __future__ import annotations

from portal.access import CITYWIDE_ROLES
from portal.models import Role
from schools.models import ThroughKind, TrainingLevel
from schools.services import through_programme_record
from tests import factories
from tests.access_expectations import READ_ONLY, Post, Writes
from tests.institutions.builders import pdf

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
SCHOOL_VIEWERS = {str(r) for r in CITYWIDE_ROLES} | {STAFF, DISTRICT}


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


OUTSIDE = {STAFF: 404, DISTRICT: 404}

EXPECTATIONS = {
    "schools:through_programmes": ("school", _for(200, SCHOOL_VIEWERS)),
    "schools:through_programme_withdraw": ("through_programme", _for(405, {STAFF})),
    "schools:through_programme_document": ("through_programme", _for(200, SCHOOL_VIEWERS)),
}

OUT_OF_SCOPE = {
    "schools:through_programmes": ("other_school", _for(200, SCHOOL_VIEWERS, **OUTSIDE)),
    "schools:through_programme_document": ("other_through_programme", _for(200, SCHOOL_VIEWERS, **OUTSIDE)),
}


def _record(objects: dict) -> dict:
    return {
        "major": objects["through_candidate"].pk,
        "kind": ThroughKind.SECONDARY_HIGHER,
        "partner": "上海某高等职业技术学院",
        "approval_ref": "沪教委职〔2025〕8号",
        "file": pdf("批准文件.pdf"),
    }


WITHDRAW = {"reason": "贯通培养试点结束"}

POST_EXPECTATIONS = {
    "schools:through_programmes": [
        # Staff of the school record; every other reader may look but not record (403).
        Post("school", _for(403, set(), **{STAFF: Writes(302)}), data=_record),
        Post("other_school", _for(403, set(), **OUTSIDE), data=_record),
    ],
    "schools:through_programme_withdraw": [
        Post("through_programme", _for(403, set(), **{STAFF: Writes(302)}), data=WITHDRAW),
        Post("other_through_programme", _for(403, set(), **{STAFF: 404}), data=WITHDRAW),
    ],
    "schools:through_programme_document": READ_ONLY,
}


def build_objects(objects: dict, people: dict) -> dict:
    school, other = objects["school"], objects["other_school"]
    recorded = factories.major(school, code="700101", level=TrainingLevel.HIGHER)
    other_recorded = factories.major(other, code="700102", level=TrainingLevel.HIGHER)
    other_staff = factories.user(STAFF, organisation=other.organisation)
    common = {"kind": ThroughKind.SECONDARY_HIGHER, "partner": "上海某中职学校", "approval_ref": "沪教委职〔2024〕3号"}
    return {
        "through_candidate": factories.major(school, code="700103", level=TrainingLevel.HIGHER),
        "through_programme": through_programme_record(
            major=recorded, actor=people[Role.SCHOOL_STAFF], upload=pdf("批准.pdf"), **common
        ),
        "other_through_programme": through_programme_record(
            major=other_recorded, actor=other_staff, upload=pdf("批准.pdf"), **common
        ),
    }
