"""Violation cases (/oversight/cases/…): the list and its export, opening a case, a case's page, the
trace-back, evidence, and the decide and dismiss steps — every URL as every role, GET and POST.

Any logged-in user reads the list (scoped: the city-wide roles everything, the district bureau its
district, the school its own institution, a person the cases about them; an empty list otherwise).
The supervising authorities (centre, municipal HR bureau, the district bureau of the institution's
district) open, evidence, decide and dismiss; the school does so for its own candidates and staff
but never on a case against its institution; the commission and the system administrator only
read; experts and quality supervisors are not parties (404).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from portal.access import CITYWIDE_ROLES
from portal.models import Role
from tests.access_expectations import ANON, READ_ONLY, Post, Writes

STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
MUNICIPAL = Role.MUNICIPAL_HR_OFFICER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
EXPERT = Role.EXPERT.value
QS = Role.QUALITY_SUPERVISOR.value
CITY = {str(r) for r in CITYWIDE_ROLES}
READERS = CITY | {STAFF, DISTRICT}
HANDLERS = {CENTRE, MUNICIPAL, DISTRICT, STAFF}
OUTSIDERS = {EXPERT: 404, QS: 404}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


def build_objects(objects: dict, people: dict) -> dict:
    from assessments.models import Candidate
    from oversight.models import SubjectKind
    from oversight.services import cases as service

    centre = people[Role.CENTRE_REVIEWER]
    candidate = Candidate.objects.select_related("plan__institution", "student").get(pk=objects["rec_open_candidate"])
    institution = candidate.plan.institution

    def opened(kind, inst=institution, **kwargs):
        return service.case_open(
            actor=centre,
            subject_kind=kind,
            institution=inst,
            title="替考",
            facts="经督导发现考生由他人代考。",
            source="direct",
            **kwargs,
        )

    open_case = opened(SubjectKind.CANDIDATE, candidate=candidate)
    evidence = service.evidence_add(
        case=open_case, actor=centre, uploads=[SimpleUploadedFile("笔录.pdf", PDF)], description="询问笔录"
    )[0]
    institution_case = opened(SubjectKind.INSTITUTION, plan=candidate.plan)
    decided = opened(SubjectKind.INSTITUTION)
    service.case_decide(case=decided, actor=centre, decision="批评教育")
    other = opened(SubjectKind.INSTITUTION, inst=objects["other_institution"])
    return {
        "case_open": open_case,
        "case_institution": institution_case,
        "case_decided": decided,
        "case_evidence_file": evidence,
        "case_other": other,
        "case_other_evidence": service.evidence_add(
            case=other, actor=centre, uploads=[SimpleUploadedFile("照片.pdf", PDF)]
        )[0],
    }


STEP = _for(200, HANDLERS, **OUTSIDERS)
READ = _for(200, READERS, **OUTSIDERS)

EXPECTATIONS = {
    "oversight:case_list": (None, _for(200, set(Role.values))),
    "oversight:case_export": (None, _for(200, set(Role.values))),
    "oversight:case_create": (None, _for(200, HANDLERS)),
    "oversight:case_detail": ("case_open", READ),
    "oversight:case_trace": ("case_open", READ),
    "oversight:case_evidence_add": ("case_open", STEP),
    "oversight:case_evidence": ("case_evidence_file", READ),
    "oversight:case_decide": ("case_open", STEP),
    "oversight:case_dismiss": ("case_open", STEP),
}

# Another district's institution: the school and the district bureau do not find it.
NOT_HERE = {STAFF: 404, DISTRICT: 404, **OUTSIDERS}
OUT_OF_SCOPE = {
    "oversight:case_detail": ("case_other", _for(200, READERS, **NOT_HERE)),
    "oversight:case_trace": ("case_other", _for(200, READERS, **NOT_HERE)),
    "oversight:case_evidence": ("case_other_evidence", _for(200, READERS, **NOT_HERE)),
    "oversight:case_decide": ("case_other", _for(200, {CENTRE, MUNICIPAL}, **NOT_HERE)),
    "oversight:case_dismiss": ("case_other", _for(200, {CENTRE, MUNICIPAL}, **NOT_HERE)),
    "oversight:case_evidence_add": ("case_other", _for(200, {CENTRE, MUNICIPAL}, **NOT_HERE)),
}


def _new_case(objects: dict) -> dict:
    return {"subject_kind": "institution", "institution": objects["institution"].pk, "title": "违规", "facts": "事实"}


def _evidence(objects: dict) -> dict:
    return {"files": [SimpleUploadedFile("现场.pdf", PDF)], "description": "现场照片"}


POST_EXPECTATIONS = {
    "oversight:case_list": READ_ONLY,
    "oversight:case_export": READ_ONLY,
    "oversight:case_detail": READ_ONLY,
    "oversight:case_trace": READ_ONLY,
    "oversight:case_evidence": READ_ONLY,
    "oversight:case_create": [
        # A case against an institution: its own school may not open one (403).
        Post(None, _for(Writes(302), {CENTRE, MUNICIPAL, DISTRICT}), data=_new_case),
    ],
    "oversight:case_evidence_add": [
        Post("case_open", _for(Writes(302), HANDLERS, **OUTSIDERS), data=_evidence),
    ],
    "oversight:case_decide": [
        Post("case_open", _for(Writes(302), HANDLERS, **OUTSIDERS), data={"decision": "批评教育"}),
        Post(
            "case_institution",
            _for(Writes(302), {CENTRE, MUNICIPAL, DISTRICT}, **OUTSIDERS),
            data={"decision": "批评教育"},
            note="the school does not decide a case against its own institution",
        ),
        Post("case_decided", _for(409, {CENTRE, MUNICIPAL, DISTRICT}, **OUTSIDERS), data={"decision": "再次"}),
    ],
    "oversight:case_dismiss": [
        Post("case_open", _for(Writes(302), HANDLERS, **OUTSIDERS), data={"reason": "经查不属实"}),
    ],
}
