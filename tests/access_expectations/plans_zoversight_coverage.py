"""Coverage of majors (/oversight/coverage/…): every URL as every role, GET and POST.

The city-wide readers (commission, its department, the centre, the municipal HR bureau), the
district bureau and school staff read coverage and the other-channel evaluations (each within
their scope); school staff (own school) and the centre record and withdraw evaluations; the centre
and the commission start a refresh. Experts, quality supervisors and the system administrator hold
no role for these pages (403).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from oversight.models import CoverageChannel
from oversight.selectors.coverage import current_school_year
from portal.models import Role
from tests.access_expectations import READ_ONLY, Post, Writes
from tests.oversight import test_coverage_world as cw

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
COMMISSION = Role.COMMISSION_OFFICER.value
DEPT = Role.COMMISSION_DEPT_OFFICER.value
MUNICIPAL = Role.MUNICIPAL_HR_OFFICER.value
READERS = {COMMISSION, DEPT, CENTRE, MUNICIPAL, DISTRICT, STAFF}
RECORDERS = {STAFF, CENTRE}
REFRESHERS = {CENTRE, COMMISSION, DEPT}


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


EXPECTATIONS = {
    "oversight:coverage": (None, _for(200, READERS)),
    "oversight:coverage_export": (None, _for(200, READERS)),
    "oversight:coverage_refresh": (None, _for(405, REFRESHERS)),
    "oversight:external_evaluation_list": (None, _for(200, READERS)),
    "oversight:external_evaluation_create": (None, _for(200, RECORDERS)),
    "oversight:external_evaluation_withdraw": ("cov_evaluation", _for(200, RECORDERS)),
    "oversight:external_evaluation_evidence": ("cov_evaluation", _for(200, READERS)),
}

# Another district's school's evaluation: out of the school's and the district bureau's reach.
OUT_OF_SCOPE = {
    "oversight:external_evaluation_withdraw": ("cov_other_evaluation", _for(200, {CENTRE}, **{STAFF: 404})),
    "oversight:external_evaluation_evidence": (
        "cov_other_evaluation",
        _for(200, READERS, **{STAFF: 404, DISTRICT: 404}),
    ),
}


def _record_body(objects: dict) -> dict:
    return {
        "school": objects["school"].pk,
        "major": objects["cov_major"].pk,
        "school_year": current_school_year(),
        "channel": CoverageChannel.SOCIAL_ORG,
        "provider": "测试评价组织",
        "note": "",
        "evidence": SimpleUploadedFile("证明.pdf", cw.PDF, content_type="application/pdf"),
    }


def _other_major_body(objects: dict) -> dict:
    return {**_record_body(objects), "school": objects["other_school"].pk, "major": objects["cov_other_major"].pk}


POST_EXPECTATIONS = {
    "oversight:coverage": READ_ONLY,
    "oversight:coverage_export": READ_ONLY,
    "oversight:external_evaluation_list": READ_ONLY,
    "oversight:external_evaluation_evidence": READ_ONLY,
    "oversight:coverage_refresh": [
        Post(None, _for(Writes(302), REFRESHERS), data=lambda o: {"year": current_school_year()}),
    ],
    "oversight:external_evaluation_create": [
        Post(None, _for(Writes(302), RECORDERS), data=_record_body),
        # School staff may not record for another school: its major is not offered (the form again).
        Post(None, _for(403, set(), **{STAFF: 200, CENTRE: Writes(302)}), data=_other_major_body),
    ],
    "oversight:external_evaluation_withdraw": [
        Post("cov_evaluation", _for(Writes(302), RECORDERS), data={"reason": "登记有误"}),
        Post("cov_evaluation", _for(200, RECORDERS), data={"reason": ""}, note="no reason: the form again"),
        Post("cov_withdrawn", _for(409, RECORDERS), data={"reason": "再次撤销"}),
        Post("cov_other_evaluation", _for(403, {CENTRE}, **{CENTRE: Writes(302), STAFF: 404}), data={"reason": "有误"}),
    ],
}


def build_objects(objects, people) -> dict:
    centre = people[Role.CENTRE_REVIEWER]
    major = objects["student"].major
    other_major = objects["other_student"].major
    return {
        "cov_major": major,
        "cov_other_major": other_major,
        "cov_evaluation": cw.evaluation(
            major, channel=CoverageChannel.SOCIAL_ORG, actor=centre, year=current_school_year()
        ),
        "cov_withdrawn": cw.evaluation(
            major, channel=CoverageChannel.EMPLOYER, actor=centre, year=current_school_year(), withdrawn=True
        ),
        "cov_other_evaluation": cw.evaluation(
            other_major, channel=CoverageChannel.COMPETITION, actor=centre, year=current_school_year()
        ),
    }
