"""The filing workflow pages (/institutions/): every URL as every role.

Readers: school staff (their school's applications), the city-wide authorities (every
application once submitted), the district bureau (its district's), experts (only the
applications whose panel they sit on). Quality supervisors have no part in filings (403).
Each step page is for the role that takes the step; a step the user may not take is a 403.
The applications are built through the services (tests/institutions/builders.py).
"""

from __future__ import annotations

from institutions import services
from institutions.models import ApplicationKind, Institution
from portal.access import CITYWIDE_ROLES
from portal.models import Role
from tests import factories
from tests.institutions.builders import Cast

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
EXPERT = Role.EXPERT.value
CITY = {str(r) for r in CITYWIDE_ROLES}
SCHOOL_VIEWERS = CITY | {STAFF, DISTRICT}


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


EXPECTATIONS = {
    "institutions:application_list": (None, _for(200, SCHOOL_VIEWERS | {EXPERT})),
    # POST only: the school's staff get 405 on a GET.
    "institutions:application_create": (None, _for(405, {STAFF})),
    # A returned application of the school: the panel expert of another file does not see it.
    "institutions:application_detail": ("application", _for(200, SCHOOL_VIEWERS, **{EXPERT: 404})),
    "institutions:application_edit": ("application", _for(200, {STAFF})),
    "institutions:condition_edit": ("application_condition", _for(200, {STAFF})),
    "institutions:occupation_add": ("application", _for(200, {STAFF})),
    "institutions:occupation_delete": ("applied_occupation", _for(405, {STAFF})),
    "institutions:evidence_download": ("evidence", _for(200, SCHOOL_VIEWERS, **{EXPERT: 404})),
    "institutions:evidence_delete": ("evidence", _for(405, {STAFF})),
    # Resubmitting is the school's step; authorities see the file but may not take it.
    "institutions:application_act": ("application_submit", _for(200, {STAFF}, **{EXPERT: 404})),
    "institutions:panel_form": ("accepted_application", _for(200, {CENTRE})),
    "institutions:findings": ("evaluated_application", _for(200, {EXPERT})),
    "institutions:conclude": ("evaluated_application", _for(200, {EXPERT})),
    "institutions:confirm": ("consented_application", _for(200, {CENTRE})),
    # The people expert sat on the panel of the filed application, so keeps reading it.
    "institutions:receipt_download": ("filed_application", _for(200, SCHOOL_VIEWERS | {EXPERT})),
}

# Applications of ``other_school`` (another district): out of the school's and the district's reach.
OTHER = {STAFF: 404, DISTRICT: 404}
OUT_OF_SCOPE = {
    "institutions:application_detail": ("evaluated_application", _for(200, SCHOOL_VIEWERS | {EXPERT}, **OTHER)),
    "institutions:application_edit": ("evaluated_application", _for(200, {STAFF}, **{STAFF: 404})),
    "institutions:condition_edit": ("evaluated_application_condition", _for(200, {STAFF}, **{STAFF: 404})),
    "institutions:occupation_add": ("evaluated_application", _for(200, {STAFF}, **{STAFF: 404})),
    "institutions:evidence_download": ("other_evidence", _for(200, SCHOOL_VIEWERS | {EXPERT}, **OTHER)),
    "institutions:application_act": ("other_withdraw", _for(403, set(), **OTHER)),
    "institutions:receipt_download": ("other_filed_application", _for(200, SCHOOL_VIEWERS | {EXPERT}, **OTHER)),
}


def _kind(school) -> str:
    """First filing, or an added occupation where another builder already listed the school."""
    if Institution.objects.filter(school=school).exists():
        return ApplicationKind.ADD_OCCUPATION
    return ApplicationKind.INITIAL


def _occupation(code: str):
    from portal.models import Occupation

    return Occupation.objects.get(code=code, work_type="")


def _cast(school, people, staff=None) -> Cast:
    cast = Cast(school, staff=staff)
    cast.experts = [people[Role.EXPERT], *cast.experts[1:]]  # the people expert leads every panel here
    return cast


def build_objects(objects, people) -> dict:
    school, other_school = objects["school"], objects["other_school"]
    electrician, turner = _occupation("6-31-01-03"), _occupation("6-18-01-01")

    # The school: one filing done (with its receipt), then an added occupation returned for amendment.
    mine = _cast(school, people, staff=people[Role.SCHOOL_STAFF])
    filed, _receipt = mine.filed(kind=_kind(school), occupation=electrician)
    returned = mine.submitted(kind=ApplicationKind.ADD_OCCUPATION, occupation=turner)
    services.application_return(application=returned, actor=mine.dept, comment="请补充条件4的考核站点照片。")

    # The other school: filed too, and an added occupation under evaluation by the people expert's panel.
    theirs = _cast(other_school, people)
    other_filed, _other_receipt = theirs.filed(kind=_kind(other_school), occupation=electrician)
    evaluated = theirs.with_panel(kind=ApplicationKind.ADD_OCCUPATION, occupation=turner)

    # Two more schools for the centre's pages: one accepted without a panel, one consented.
    accepted = _cast(factories.school(district_code="310104"), people).under_evaluation()
    consented = _cast(factories.school(district_code="310104"), people).consented()

    evidence = returned.answers.get(condition=1).evidence.first()
    return {
        "application": returned,
        "application_condition": {"pk": returned.pk, "condition": 1},
        "application_submit": {"pk": returned.pk, "action": "submit"},
        "applied_occupation": returned.occupations.first(),
        "evidence": evidence,
        "filed_application": filed,
        "other_filed_application": other_filed,
        "evaluated_application": evaluated,
        "evaluated_application_condition": {"pk": evaluated.pk, "condition": 1},
        "other_evidence": evaluated.answers.get(condition=1).evidence.first(),
        "other_withdraw": {"pk": evaluated.pk, "action": "withdraw"},
        "accepted_application": accepted,
        "consented_application": consented,
    }
