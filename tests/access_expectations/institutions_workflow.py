"""The filing workflow pages (/institutions/): every URL as every role.

Readers: school staff (their school's applications), the city-wide authorities (every
application once submitted), the district bureau (its district's), experts (only the
applications whose panel they sit on). Quality supervisors have no part in filings (403).
Each step page is for the role that takes the step; a step the user may not take is a 403.
The applications are built through the services (tests/institutions/builders.py).
"""

from __future__ import annotations

from institutions import services
from institutions.models import ApplicationKind, EvaluationMethod, Institution
from portal.access import CITYWIDE_ROLES
from portal.models import Role
from schools.models import Level
from tests import factories
from tests.access_expectations import READ_ONLY, Post, Writes
from tests.institutions.builders import Cast, corresponding_major, pdf

ANON = "anonymous"
STAFF = Role.SCHOOL_STAFF.value
CENTRE = Role.CENTRE_REVIEWER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
EXPERT = Role.EXPERT.value
DEPT = Role.COMMISSION_DEPT_OFFICER.value
HR = Role.MUNICIPAL_HR_OFFICER.value
COMMISSION = Role.COMMISSION_OFFICER.value
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
    # The occupation form to change a row of the school's returned application.
    "institutions:occupation_edit": ("applied_occupation", _for(200, {STAFF})),
    # GET asks the school's staff to confirm a deletion; the deletion is the POST.
    "institutions:occupation_delete": ("applied_occupation", _for(200, {STAFF})),
    "institutions:evidence_download": ("evidence", _for(200, SCHOOL_VIEWERS, **{EXPERT: 404})),
    # Shown in the page (inline), scoped exactly as the download.
    "institutions:evidence_view": ("evidence", _for(200, SCHOOL_VIEWERS, **{EXPERT: 404})),
    "institutions:evidence_delete": ("evidence", _for(200, {STAFF})),
    # Resubmitting is the school's step; authorities see the file but may not take it.
    "institutions:application_act": ("application_submit", _for(200, {STAFF}, **{EXPERT: 404})),
    "institutions:panel_form": ("accepted_application", _for(200, {CENTRE})),
    "institutions:findings": ("evaluated_application", _for(200, {EXPERT})),
    "institutions:conclude": ("evaluated_application", _for(200, {EXPERT})),
    "institutions:confirm": ("consented_application", _for(200, {CENTRE})),
    # The people expert sat on the panel of the filed application, so keeps reading it.
    "institutions:receipt_download": ("filed_application", _for(200, SCHOOL_VIEWERS | {EXPERT})),
    # The work plan and assessment sites of the school's returned application (the school edits them).
    "institutions:plan_sites": ("application", _for(200, {STAFF})),
    "institutions:work_plan_download": ("application", _for(200, SCHOOL_VIEWERS, **{EXPERT: 404})),
    "institutions:room_add": ("site", _for(405, {STAFF})),
    # GET asks the school's staff to confirm a deletion; the deletion is the POST.
    "institutions:site_delete": ("site", _for(200, {STAFF})),
    "institutions:room_delete": ("room", _for(200, {STAFF})),
}

# Applications of ``other_school`` (another district): out of the school's and the district's reach.
OTHER = {STAFF: 404, DISTRICT: 404}
OUT_OF_SCOPE = {
    "institutions:application_detail": ("evaluated_application", _for(200, SCHOOL_VIEWERS | {EXPERT}, **OTHER)),
    "institutions:application_edit": ("evaluated_application", _for(200, {STAFF}, **{STAFF: 404})),
    "institutions:condition_edit": ("evaluated_application_condition", _for(200, {STAFF}, **{STAFF: 404})),
    "institutions:occupation_add": ("evaluated_application", _for(200, {STAFF}, **{STAFF: 404})),
    "institutions:evidence_download": ("other_evidence", _for(200, SCHOOL_VIEWERS | {EXPERT}, **OTHER)),
    "institutions:evidence_view": ("other_evidence", _for(200, SCHOOL_VIEWERS | {EXPERT}, **OTHER)),
    "institutions:occupation_edit": ("other_applied_occupation", _for(403, set(), **{STAFF: 404})),
    "institutions:occupation_delete": ("other_applied_occupation", _for(403, set(), **{STAFF: 404})),
    "institutions:evidence_delete": ("other_evidence", _for(403, set(), **{STAFF: 404})),
    "institutions:application_act": ("other_withdraw", _for(403, set(), **OTHER)),
    "institutions:receipt_download": ("other_filed_application", _for(200, SCHOOL_VIEWERS | {EXPERT}, **OTHER)),
    "institutions:plan_sites": ("evaluated_application", _for(200, {STAFF}, **{STAFF: 404})),
    "institutions:work_plan_download": ("other_filed_application", _for(200, SCHOOL_VIEWERS | {EXPERT}, **OTHER)),
}

# --- POST -------------------------------------------------------------------------------
# Each step is sent with the body that would take it, as every role: the role that may take it
# writes (Writes); a wrong role is 403, out of scope 404, a state that does not allow it 409 —
# and those change nothing. Objects: "application" is the school's returned application,
# "filed_application" its filed one, "evaluated_application" another school's under evaluation
# (the people expert leads its panel), "accepted_application" under evaluation without a panel,
# "consented_application" awaiting confirmation (the people expert led its panel too).
CONTACT = {"contact_name": "李老师", "contact_phone": "13800000000"}
STATEMENT = {"statement": "补充后的情况说明"}
FINDING = {"c1_methods": [EvaluationMethod.DOCUMENT_REVIEW], "c1_met": "yes", "c1_remarks": "材料齐全，符合要求"}
CONFIRM = {
    "ministry_report_ref": "人社鉴备〔2026〕99号",
    "ministry_reported_on": "2026-11-20",
    "category_letter": "S",
    "ministry_code": "0000",
    "site_sequence": "000777",
}
DECLARED = {"declaration": "on"}
SITE = {"part": "site", "name": "新校区站点", "address": "新校区实训楼"}
ROOM = {"name": "新考场", "capacity": "20", "av_monitoring": "on"}  # the school answers for its material (annex §3.1)
SIGN = {"conclusion": "pass", "opinion": "具备评价机构条件"}
REFUSED_OTHER_SCHOOL = _for(403, set(), **OTHER)


def _evidence_upload(objects: dict) -> dict:
    return {"part": "evidence", "files": pdf("补充材料.pdf")}


def _occupation_body(objects: dict) -> dict:
    return {
        "occupation": _occupation("6-18-02-04").pk,
        "lowest_level": Level.LEVEL_5,
        "highest_level": Level.LEVEL_4,
        "basis": "national_standard",
        "specification_ref": "",
        "majors": [objects["major"].pk],
    }


def _occupation_edit_body(objects: dict) -> dict:
    """The returned application's occupation (车工) kept, its level range narrowed."""
    applied = objects["applied_occupation"]
    return {
        "occupation": applied.occupation_id,
        "lowest_level": Level.LEVEL_4,
        "highest_level": Level.LEVEL_4,
        "basis": "national_standard",
        "specification_ref": "",
        "majors": [m.pk for m in applied.majors.all()],
    }


def _panel_body(objects: dict) -> dict:
    return {"experts": objects["panel_experts"], "lead": objects["panel_experts"][0]}


POST_EXPECTATIONS = {
    "institutions:application_list": READ_ONLY,
    # The school already has an open (returned) application: a second one is refused by state.
    "institutions:application_create": [Post(None, _for(403, set(), **{STAFF: 409}), data={"kind": "add_occupation"})],
    "institutions:application_detail": READ_ONLY,
    "institutions:application_edit": [
        Post("application", _for(Writes(302), {STAFF}), data=CONTACT),
        Post("evaluated_application", _for(403, set(), **{STAFF: 404}), data=CONTACT),
        Post("filed_application", _for(403, set(), **{STAFF: 409}), data=CONTACT),
    ],
    "institutions:condition_edit": [
        Post("application_condition", _for(Writes(302), {STAFF}), data=STATEMENT),
        Post("application_condition", _for(Writes(302), {STAFF}), data=_evidence_upload, note="evidence upload"),
        Post("evaluated_application_condition", _for(403, set(), **{STAFF: 404}), data=_evidence_upload),
        Post("filed_application_condition", _for(403, set(), **{STAFF: 409}), data=STATEMENT),
        Post("filed_application_condition", _for(403, set(), **{STAFF: 409}), data=_evidence_upload),
    ],
    "institutions:occupation_add": [
        Post("application", _for(Writes(302), {STAFF}), data=_occupation_body),
        Post("evaluated_application", _for(403, set(), **{STAFF: 404}), data=_occupation_body),
        Post("filed_application", _for(403, set(), **{STAFF: 409}), data=_occupation_body),
    ],
    "institutions:occupation_delete": [
        Post("applied_occupation", _for(Writes(302), {STAFF})),
        Post("other_applied_occupation", _for(403, set(), **{STAFF: 404})),
        Post("filed_applied_occupation", _for(403, set(), **{STAFF: 409})),
    ],
    "institutions:evidence_download": READ_ONLY,
    "institutions:evidence_view": READ_ONLY,
    "institutions:occupation_edit": [
        Post("applied_occupation", _for(Writes(302), {STAFF}), data=_occupation_edit_body),
        Post("other_applied_occupation", _for(403, set(), **{STAFF: 404}), data=_occupation_edit_body),
        Post("filed_applied_occupation", _for(403, set(), **{STAFF: 409}), data=_occupation_edit_body),
    ],
    "institutions:evidence_delete": [
        Post("evidence", _for(Writes(302), {STAFF})),
        Post("other_evidence", _for(403, set(), **{STAFF: 404})),
        Post("filed_evidence", _for(403, set(), **{STAFF: 409})),
    ],
    "institutions:application_act": [
        # Resubmitting the returned application: the school's step; the expert does not see it.
        Post("application_submit", _for(Writes(302), {STAFF}, **{EXPERT: 404}), data=DECLARED),
        Post("filed_submit", _for(403, set(), **{STAFF: 409}), data=DECLARED),
        Post("other_withdraw", REFUSED_OTHER_SCHOOL, data={"comment": "撤回"}),
        Post("returned_accept", _for(403, set(), **{DEPT: 409, EXPERT: 404}), data={"comment": "受理"}),
        Post(
            "evaluated_declare_conflict",
            _for(403, set(), **{EXPERT: Writes(302), **OTHER}),
            data={"comment": "曾在该校任职"},
        ),
        Post("evaluated_consent", _for(403, set(), **{HR: 409, COMMISSION: 409, **OTHER}), data={"agreed": "yes"}),
        # The department agrees to the panel the centre proposed (annex §3.2); once only.
        Post("proposed_agree_panel", _for(Writes(302), {DEPT}, **OTHER), data={"comment": "同意"}),
        Post("evaluated_agree_panel", _for(403, set(), **{DEPT: 409, **OTHER}), data={"comment": "同意"}),
        Post("application_unknown_step", _for(404, SCHOOL_VIEWERS | {EXPERT}), note="no such step"),
    ],
    "institutions:panel_form": [
        Post("accepted_application", _for(Writes(302), {CENTRE}), data=_panel_body),
        Post("consented_application", _for(403, set(), **{CENTRE: 409}), data=_panel_body),
    ],
    "institutions:findings": [
        Post("evaluated_application", _for(Writes(302), {EXPERT}), data=FINDING),
        Post("consented_application", _for(403, set(), **{EXPERT: 409}), data=FINDING),
    ],
    "institutions:conclude": [
        # The lead may sign, but not before every condition is judged: refused by state, nothing written.
        Post("evaluated_application", _for(403, set(), **{EXPERT: 409}), data=SIGN),
        Post("consented_application", _for(403, set(), **{EXPERT: 409}), data=SIGN),
    ],
    "institutions:confirm": [
        Post("consented_application", _for(Writes(302), {CENTRE}), data=CONFIRM),
        Post("filed_application", _for(403, set(), **{CENTRE: 409}), data=CONFIRM),
        Post("accepted_application", _for(403, set(), **{CENTRE: 409}), data=CONFIRM),
    ],
    "institutions:receipt_download": READ_ONLY,
    "institutions:work_plan_download": READ_ONLY,
    "institutions:plan_sites": [
        Post("application", _for(Writes(302), {STAFF}), data=SITE),
        Post("evaluated_application", _for(403, set(), **{STAFF: 404}), data=SITE),
        Post("filed_application", _for(403, set(), **{STAFF: 409}), data=SITE),
    ],
    "institutions:room_add": [
        Post("site", _for(Writes(302), {STAFF}), data=ROOM),
        Post("other_site", _for(403, set(), **{STAFF: 404}), data=ROOM),
        Post("filed_site", _for(403, set(), **{STAFF: 409}), data=ROOM),
    ],
    "institutions:site_delete": [
        Post("site", _for(Writes(302), {STAFF})),
        Post("other_site", _for(403, set(), **{STAFF: 404})),
        Post("filed_site", _for(403, set(), **{STAFF: 409})),
    ],
    "institutions:room_delete": [
        Post("room", _for(Writes(302), {STAFF})),
        Post("other_room", _for(403, set(), **{STAFF: 404})),
        Post("filed_room", _for(403, set(), **{STAFF: 409})),
    ],
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
    site = services.site_add(application=returned, actor=mine.staff, name="补充站点", address="实训楼4层")
    room = services.room_add(site=site, actor=mine.staff, name="401", capacity=24, av_monitoring=True)

    # The other school: filed too, and an added occupation under evaluation by the people expert's panel.
    theirs = _cast(other_school, people)
    other_filed, _other_receipt = theirs.filed(kind=_kind(other_school), occupation=electrician)
    evaluated = theirs.with_panel(kind=ApplicationKind.ADD_OCCUPATION, occupation=turner)

    # Two more schools for the centre's pages: one accepted without a panel, one consented.
    accepted = _cast(factories.school(district_code="310104"), people).under_evaluation()
    consented = _cast(factories.school(district_code="310104"), people).consented()
    proposing = _cast(factories.school(district_code="310104"), people)
    proposed = proposing.under_evaluation()
    services.panel_form(application=proposed, actor=proposing.centre, experts=proposing.experts, lead=proposing.lead)

    filed_site, other_site = (_site_of(filed), _site_of(other_filed))
    evidence = returned.answers.get(condition=1).evidence.first()
    panel_experts = [people[Role.EXPERT], factories.user(Role.EXPERT), factories.user(Role.EXPERT)]
    return {
        "major": mine_major(school),
        "panel_experts": [e.pk for e in panel_experts],
        "filed_application_condition": {"pk": filed.pk, "condition": 1},
        "filed_evidence": filed.answers.get(condition=1).evidence.first(),
        "filed_applied_occupation": filed.occupations.first(),
        "other_applied_occupation": evaluated.occupations.first(),
        "filed_submit": {"pk": filed.pk, "action": "submit"},
        "returned_accept": {"pk": returned.pk, "action": "accept"},
        "evaluated_declare_conflict": {"pk": evaluated.pk, "action": "declare_conflict"},
        "evaluated_consent": {"pk": evaluated.pk, "action": "consent"},
        "proposed_agree_panel": {"pk": proposed.pk, "action": "agree_panel"},
        "evaluated_agree_panel": {"pk": evaluated.pk, "action": "agree_panel"},
        "application_unknown_step": {"pk": returned.pk, "action": "approve"},
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
        "site": site,
        "room": room,
        "filed_site": filed_site,
        "filed_room": filed_site.rooms.get(),
        "other_site": other_site,
        "other_room": other_site.rooms.get(),
        "consented_application": consented,
    }


def _site_of(application):
    """A site with a room on an application that is no longer editable (set up directly for the test)."""
    from institutions.models import AssessmentSite, ExamRoom

    site = AssessmentSite.objects.create(application=application, name="已备案站点", address="主楼")
    ExamRoom.objects.create(site=site, name="101", capacity=30, av_monitoring=True)
    return site


def mine_major(school):
    """An active major of the school that corresponds to the occupation added by POST (焊工): the
    occupation form refuses a major that does not, in the submit rule's words."""
    return corresponding_major(school, _occupation("6-18-02-04"))
