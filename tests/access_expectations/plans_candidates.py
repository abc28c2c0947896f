"""Candidates of a batch and the centre's openings to other schools: every URL as every role.

The school's staff pick, import and remove candidates of their own plans while a plan may be
changed (a filed plan: 409); whoever sees a batch exports its list; the city-wide authorities read
the openings and only the centre records or ends one. Built after ``plans_assessments`` (its
site) and the directory module (its institutions).
"""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assessments.candidate_import import template
from assessments.models import AssessmentMethod, Candidate, CandidateOpening, EvaluationPlan, PlanStatus
from institutions.models import AppliedOccupation, ExpertPanel, PanelConclusion
from portal.access import CITYWIDE_ROLES
from portal.models import Role
from schools.models import Level, Major, Student, TrainingLevel, graduating_year_bounds
from tests import factories
from tests.access_expectations import READ_ONLY, Post, Writes

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
CITY = {str(r) for r in CITYWIDE_ROLES}
READERS = CITY | {STAFF, DISTRICT}
ASSIGNABLE = {Role.EXPERT.value, Role.QUALITY_SUPERVISOR.value}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


# A draft is the school's own: everyone else 404. A filed plan: readers in scope, not staff, 403.
DRAFT_ONLY_STAFF = _for(200, {STAFF}, other=404)
FILED = _for(403, READERS, **{r: 404 for r in ASSIGNABLE})

EXPECTATIONS = {
    "assessments:candidate_pick": ("cand_draft", DRAFT_ONLY_STAFF),
    "assessments:candidate_import": ("cand_draft", DRAFT_ONLY_STAFF),
    "assessments:candidate_export": ("cand_submitted", _for(200, READERS, **{r: 404 for r in ASSIGNABLE})),
    "assessments:candidate_remove": ("cand_draft_remove", _for(405, {STAFF}, other=404)),
    "assessments:candidate_template": (None, _for(200, {STAFF})),
    "assessments:opening_list": (None, _for(200, CITY)),
    "assessments:opening_end": ("cand_opening", _for(403, set(), **{CENTRE: 405})),
}

OUT_OF_SCOPE = {
    # Filed plans: the school's staff see theirs (409: no longer editable), others' not at all.
    "assessments:candidate_pick": ("cand_submitted", {**FILED, STAFF: 409}),
    "assessments:candidate_import": ("cand_other_submitted", {**FILED, STAFF: 404, DISTRICT: 404}),
    "assessments:candidate_export": (
        "cand_other_submitted",
        _for(200, READERS, **{r: 404 for r in ASSIGNABLE}, **{STAFF: 404, DISTRICT: 404}),
    ),
}


def _upload(objects: dict) -> dict:
    return {"file": SimpleUploadedFile("考生名单.xlsx", template(), content_type=XLSX)}


def _opening_body(objects: dict) -> dict:
    return {
        "institution": objects["institution"].pk,
        "school": objects["other_school"].pk,
        "decided_on": timezone.localdate().isoformat(),
        "reference": "沪职鉴〔2026〕99号",
        "commission_dept_officer": objects["cand_dept_officer"].pk,
    }


POST_EXPECTATIONS = {
    "assessments:candidate_pick": [
        Post(
            "cand_draft",
            _for(Writes(302), {STAFF}, other=404),
            data=lambda o: {"student": [o["cand_free_student"].pk]},
        ),
        Post("cand_submitted", {**FILED, STAFF: 409}, data=lambda o: {"student": [o["cand_free_student"].pk]}),
        Post(
            "cand_draft",
            _for(200, {STAFF}, other=404),
            data=lambda o: {"student": [o["student"].pk]},
            note="a student whose major does not correspond: the page again, nothing written",
        ),
    ],
    "assessments:candidate_import": [
        Post("cand_draft", _for(Writes(302), {STAFF}, other=404), data=_upload),
        Post("cand_submitted", {**FILED, STAFF: 409}, data=_upload),
        Post("cand_other_submitted", {**FILED, STAFF: 404, DISTRICT: 404}, data=_upload),
    ],
    "assessments:candidate_export": READ_ONLY,
    "assessments:candidate_template": READ_ONLY,
    "assessments:candidate_remove": [
        Post("cand_draft_remove", _for(Writes(302), {STAFF}, other=404)),
        Post("cand_submitted_remove", {**FILED, STAFF: 409}),
    ],
    "assessments:opening_list": [Post(None, _for(403, set(), **{CENTRE: Writes(302)}), data=_opening_body)],
    "assessments:opening_end": [
        Post("cand_opening", _for(403, set(), **{CENTRE: Writes(302)}), data={"ended_on": "2099-01-01"}),
        Post("cand_ended_opening", _for(403, set(), **{CENTRE: 409}), data={"ended_on": "2099-01-01"}),
    ],
}


def _plan(institution, site, staff, status: str) -> EvaluationPlan:
    start = timezone.localtime() + dt.timedelta(days=30)
    start = start.replace(hour=9, minute=0, second=0, microsecond=0)
    return EvaluationPlan.objects.create(
        institution=institution,
        occupation=institution.occupations.get(occupation__code="6-18-02-04"),
        level=Level.LEVEL_4,
        site=site,
        method=AssessmentMethod.RESULT,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=8),
        status=status,
        created_by=staff,
    )


def _student(major: Major, n: int) -> Student:
    from tests.assessments.candidate_builders import unique_id

    graduation = graduating_year_bounds(timezone.localdate() + dt.timedelta(days=30))[1]
    return Student.objects.create(
        school=major.school,
        major=major,
        student_number=f"C{n:06d}",
        name=f"考生{n}",
        id_number=unique_id(n),
        enrolment_year=graduation.year - 3,
        expected_graduation=graduation,
    )


def _evaluated_major(institution, centre) -> Major:
    """A major the filing names for welders, evaluated by a panel that passed."""
    row = institution.occupations.get(occupation__code="6-18-02-04")
    major = Major.objects.create(
        school=institution.school, code="460199", name="焊接技术（考生测试）", training_level=TrainingLevel.HIGHER
    )
    applied, _ = AppliedOccupation.objects.get_or_create(
        application=row.application,
        occupation=row.occupation,
        defaults={"lowest_level": row.lowest_level, "highest_level": row.highest_level, "basis": row.basis},
    )
    applied.majors.add(major)
    ExpertPanel.objects.get_or_create(
        application=row.application, defaults={"formed_by": centre, "conclusion": PanelConclusion.PASS}
    )
    return major


def build_objects(objects, people) -> dict:
    inst, other = objects["institution"], objects["other_institution"]
    staff, centre = people[Role.SCHOOL_STAFF], people[Role.CENTRE_REVIEWER]
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=other.school.organisation)
    site = objects["plan_site"]
    other_site = EvaluationPlan.objects.filter(institution=other).first().site
    major = _evaluated_major(inst, centre)
    draft = _plan(inst, site, staff, PlanStatus.DRAFT)
    submitted = _plan(inst, site, staff, PlanStatus.SUBMITTED)
    other_submitted = _plan(other, other_site, other_staff, PlanStatus.SUBMITTED)
    in_draft, in_submitted = _student(major, 300_001), _student(major, 300_002)
    free = _student(major, 300_003)
    occupation = draft.occupation.occupation
    c_draft = Candidate.objects.create(
        plan=draft, student=in_draft, occupation=occupation, level=draft.level, added_by=staff
    )
    c_submitted = Candidate.objects.create(
        plan=submitted, student=in_submitted, occupation=occupation, level=submitted.level, added_by=staff
    )
    third = factories.school()
    opening = CandidateOpening.objects.create(
        institution=inst,
        school=third,
        decided_on=timezone.localdate() - dt.timedelta(days=10),
        reference="沪职鉴〔2026〕7号",
        centre_officer=centre,
        commission_dept_officer=people[Role.COMMISSION_DEPT_OFFICER],
    )
    ended = CandidateOpening.objects.create(
        institution=other,
        school=third,
        decided_on=timezone.localdate() - dt.timedelta(days=100),
        reference="沪职鉴〔2026〕3号",
        centre_officer=centre,
        commission_dept_officer=people[Role.COMMISSION_DEPT_OFFICER],
        ended_on=timezone.localdate() - dt.timedelta(days=5),
    )
    return {
        "cand_draft": draft,
        "cand_submitted": submitted,
        "cand_other_submitted": other_submitted,
        "cand_free_student": free,
        "cand_draft_remove": {"pk": draft.pk, "candidate_pk": c_draft.pk},
        "cand_submitted_remove": {"pk": submitted.pk, "candidate_pk": c_submitted.pk},
        "cand_opening": opening,
        "cand_ended_opening": ended,
        "cand_dept_officer": people[Role.COMMISSION_DEPT_OFFICER],
    }
