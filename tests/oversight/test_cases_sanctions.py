"""Violation cases and sanctions (issue 10 item 3): each rule a test named after it.

Each sanction changes the data it names through the owning service; who may open and decide
follows the supervising authority (人社职司便函〔2021〕57号); nothing is deleted.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from assessments.models import Barring, Outcome
from assessments.services import candidates as candidate_services
from assessments.services import results, staffing
from assessments.services.results import result_void
from assessments.services.staffing import bar_person
from certificates.models import Certificate, CertificateStatus
from institutions.models import InstitutionStatus
from oversight.models import CaseEvent, CaseStatus, DecidingBody, Sanction, SanctionKind, ViolationCase
from oversight.services import cases as service
from oversight.services.cases import SanctionSpec
from portal.models import Notification, Role
from portal.workflow import Authority, TransitionError
from tests import factories
from tests.oversight.case_builders import candidate_case, institution_case, issued, staff_case

pytestmark = pytest.mark.django_db
K = SanctionKind


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def i():
    return issued(2)


def district_officer(district_code: str = "310115"):
    org = factories.organisation("district_hr", district_code=district_code)
    return factories.user(Role.DISTRICT_HR_OFFICER, organisation=org)


# --- Opening ------------------------------------------------------------------------------------


def test_a_case_number_comes_from_the_shared_counter_per_year(i):
    first, second = candidate_case(i), candidate_case(i)
    year = first.opened_at.year
    assert first.number == f"WG{year}000001" and second.number == f"WG{year}000002"
    assert first.status == CaseStatus.OPEN
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in first.events.all()] == [
        ("open", "", "open", i.centre)
    ]
    assert first.subject_name == i.b.candidates[0].student.name
    assert first.subject_id_number == i.b.candidates[0].student.id_number
    assert first.plan == i.plan  # the candidate's batch


def test_opening_tells_the_institutions_school_staff(i):
    case = candidate_case(i)
    assert Notification.objects.filter(recipient=i.staff, link__endswith=f"/{case.pk}/").exists()


def test_institution_staff_may_open_a_case_against_their_own_candidates_but_not_their_institution(i):
    case = candidate_case(i, actor=i.staff)
    assert case.opened_by == i.staff
    with pytest.raises(PermissionDenied):
        institution_case(i, actor=i.staff)
    other = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    with pytest.raises(PermissionDenied):
        candidate_case(i, actor=other)


def test_a_district_bureau_cannot_act_outside_its_district(i):
    district = i.plan.institution.school.organisation.district.code
    elsewhere = district_officer("310104" if district != "310104" else "310105")
    with pytest.raises(PermissionDenied):
        candidate_case(i, actor=elsewhere)
    case = candidate_case(i)
    with pytest.raises(PermissionDenied):
        service.case_decide(case=case, actor=elsewhere, decision="处理")
    with pytest.raises(PermissionDenied):
        service.case_dismiss(case=case, actor=elsewhere, reason="不予处理")
    at_home = district_officer(district)
    decided = service.case_decide(case=case, actor=at_home, decision="批评教育")
    assert decided.deciding_body == DecidingBody.DISTRICT_HR


def test_a_case_names_its_subject_and_every_problem_at_once(i):
    with pytest.raises(ValidationError) as exc:
        service.case_open(
            actor=i.centre,
            subject_kind="candidate",
            institution=i.plan.institution,
            title=" ",
            facts="",
            source="supervision",
        )
    messages = " ".join(exc.value.messages)
    assert "请填写案由" in messages and "请填写基本事实" in messages
    assert "须指明督导报告" in messages and "须选择考生" in messages
    assert not ViolationCase.objects.exists()


# --- Each sanction changes its data ----------------------------------------------------------------


def test_void_result_sets_the_outcome_voided_and_takes_it_out_of_passed_candidates(i):
    case = candidate_case(i)
    candidate = i.b.candidates[0]
    assert candidate in results.passed_candidates(i.plan)
    service.case_decide(case=case, actor=i.centre, decision="成绩无效", sanctions=[SanctionSpec(K.VOID_RESULT)])
    candidate.refresh_from_db()
    assert candidate.outcome == Outcome.VOIDED
    assert candidate not in results.passed_candidates(i.plan)
    assert candidate.history.first().history_user == i.centre
    sanction = Sanction.objects.get(case=case)
    assert (sanction.kind, sanction.candidate, sanction.applied_by) == (K.VOID_RESULT, candidate, i.centre)


def test_revoke_certificate_shows_revoked_on_public_verification_and_the_api(i):
    case = candidate_case(i)
    cert = i.certificates[0]
    service.case_decide(
        case=case, actor=i.centre, decision="撤销证书", sanctions=[SanctionSpec(K.REVOKE_CERTIFICATE, certificate=cert)]
    )
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REVOKED and case.number in cert.status_reason
    page = Client().post("/verify/", {"by": "number", "number-number": cert.number, "number-name": cert.name})
    body = page.content.decode()
    assert "已撤销" in body and case.number in body and "text-bg-success" not in body
    data = Client().get("/api/v1/certificates/verify", {"number": cert.number, "name": cert.name}).json()
    assert data["status"] == "revoked" and case.number in data["revoked_reason"]
    assert Sanction.objects.get(case=case).certificate == cert


def test_bar_candidate_refuses_the_person_in_a_plan(i):
    case = candidate_case(i)
    student = i.b.candidates[0].student
    assert not any("禁止参加" in p for p in candidate_services.candidate_problems(i.plan, student))
    service.case_decide(
        case=case,
        actor=i.centre,
        decision="禁止参加评价一年",
        sanctions=[SanctionSpec(K.BAR_CANDIDATE, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2027, 12, 31))],
    )
    barring = Barring.objects.get()
    assert (barring.kind, barring.id_number, barring.decided_by) == ("candidate", student.id_number, i.centre)
    assert any("被禁止参加职业技能等级评价" in p for p in candidate_services.candidate_problems(i.plan, student))
    assert Sanction.objects.get(case=case).barring == barring


def test_bar_staff_refuses_the_person_as_batch_staff(i):
    person = i.b.supervisor
    assert not staffing._barring_problems(i.plan, list(i.plan.staff.all()))
    case = staff_case(i, person)
    service.case_decide(
        case=case,
        actor=i.centre,
        decision="禁止从事考务工作",
        sanctions=[SanctionSpec(K.BAR_STAFF, starts_on=dt.date(2026, 1, 1))],
    )
    barring = Barring.objects.get()
    assert (barring.kind, barring.person, barring.ends_on) == ("staff", person, None)
    problems = staffing.staffing_problems(i.plan)
    assert any("被禁入人员不得参与考务" in p for p in problems)
    # The barred staff member is told and can see the decision.
    assert Notification.objects.filter(recipient=person, link__endswith=f"/{case.pk}/").count() == 1


def test_suspend_and_remove_institution_change_its_directory_status(i):
    inst = i.plan.institution
    case = institution_case(i)
    service.case_decide(case=case, actor=i.centre, decision="暂停", sanctions=[SanctionSpec(K.SUSPEND_INSTITUTION)])
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.SUSPENDED and case.number in inst.status_reason
    second = institution_case(i)
    service.case_decide(case=second, actor=i.centre, decision="移出", sanctions=[SanctionSpec(K.REMOVE_INSTITUTION)])
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.REMOVED


def test_suspend_and_remove_occupation_change_its_directory_status(i):
    row = i.plan.occupation
    case = institution_case(i)
    service.case_decide(case=case, actor=i.centre, decision="暂停职业", sanctions=[SanctionSpec(K.SUSPEND_OCCUPATION)])
    row.refresh_from_db()
    assert row.status == InstitutionStatus.SUSPENDED
    second = institution_case(i)
    service.case_decide(case=second, actor=i.centre, decision="移出", sanctions=[SanctionSpec(K.REMOVE_OCCUPATION)])
    row.refresh_from_db()
    assert row.status == InstitutionStatus.REMOVED
    assert i.plan.institution.status == InstitutionStatus.ACTIVE


# --- Who decides ------------------------------------------------------------------------------------


def test_institution_staff_cannot_suspend_their_own_institution(i):
    case = candidate_case(i)
    with pytest.raises(ValidationError, match="您无权作出“暂停评价机构”"):
        service.case_decide(case=case, actor=i.staff, decision="暂停", sanctions=[SanctionSpec(K.SUSPEND_INSTITUTION)])
    inst_case = institution_case(i)
    with pytest.raises(PermissionDenied):
        service.case_decide(case=inst_case, actor=i.staff, decision="暂停", sanctions=[])
    i.plan.institution.refresh_from_db()
    assert i.plan.institution.status == InstitutionStatus.ACTIVE


def test_institution_staff_may_void_their_own_candidates_result(i):
    case = candidate_case(i)
    decided = service.case_decide(
        case=case, actor=i.staff, decision="本机构决定成绩无效", sanctions=[SanctionSpec(K.VOID_RESULT)]
    )
    assert decided.deciding_body == DecidingBody.INSTITUTION and decided.decided_by == i.staff


def test_a_certificate_of_another_institution_cannot_be_revoked_on_this_case(i):
    other = issued(1)
    case = candidate_case(i)
    with pytest.raises(ValidationError, match="不是本案评价机构颁发的"):
        service.case_decide(
            case=case,
            actor=i.centre,
            decision="撤销",
            sanctions=[SanctionSpec(K.REVOKE_CERTIFICATE, certificate=other.certificates[0])],
        )
    assert Certificate.objects.get(pk=other.certificates[0].pk).status == CertificateStatus.VALID


def test_a_decision_is_all_or_nothing(i):
    """A revoked certificate cannot be revoked again: the whole decision is refused, the void undone."""
    cert = i.certificates[0]
    first = candidate_case(i)
    service.case_decide(
        case=first, actor=i.centre, decision="撤销", sanctions=[SanctionSpec(K.REVOKE_CERTIFICATE, certificate=cert)]
    )
    second = candidate_case(i)
    with pytest.raises(TransitionError, match="不能撤销"):
        service.case_decide(
            case=second,
            actor=i.centre,
            decision="再处理",
            sanctions=[SanctionSpec(K.VOID_RESULT), SanctionSpec(K.REVOKE_CERTIFICATE, certificate=cert)],
        )
    second.refresh_from_db()
    assert second.status == CaseStatus.OPEN and not Sanction.objects.filter(case=second).exists()
    i.b.candidates[0].refresh_from_db()
    assert i.b.candidates[0].outcome == Outcome.PASSED


def test_a_decision_needs_its_text_and_a_decided_case_cannot_be_decided_again(i):
    case = candidate_case(i)
    with pytest.raises(ValidationError, match="请填写处理决定"):
        service.case_decide(case=case, actor=i.centre, decision=" ")
    decided = service.case_decide(case=case, actor=i.centre, decision="批评教育")
    assert (decided.status, decided.decision, decided.deciding_body) == ("decided", "批评教育", DecidingBody.CENTRE)
    with pytest.raises(TransitionError):
        service.case_decide(case=decided, actor=i.centre, decision="再次")
    assert [e.action for e in CaseEvent.objects.filter(case=case)] == ["open", "decide"]


def test_a_dismissed_case_needs_a_reason(i):
    case = candidate_case(i)
    with pytest.raises(ValidationError, match="不予处理须写明理由"):
        service.case_dismiss(case=case, actor=i.centre, reason="  ")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    dismissed = service.case_dismiss(case=case, actor=i.centre, reason="经查不属实")
    assert (dismissed.status, dismissed.decision, dismissed.decided_by) == ("dismissed", "经查不属实", i.centre)
    assert ViolationCase.objects.filter(pk=case.pk).exists()  # nothing deleted


def test_owning_services_refuse_without_the_sanction_authority(i):
    candidate = i.b.candidates[0]
    with pytest.raises(PermissionDenied):
        result_void(candidate=candidate, actor=i.centre, reason="x")
    with pytest.raises(PermissionDenied):
        result_void(candidate=candidate, actor=i.centre, reason="x", authority=Authority("administration"))
    with pytest.raises(PermissionDenied):
        bar_person(kind="candidate", id_number="x", actor=i.centre, reason="x", starts_on=dt.date(2026, 1, 1))
    candidate.refresh_from_db()
    assert candidate.outcome == Outcome.PASSED and not Barring.objects.exists()


def test_only_an_accepted_result_can_be_voided():
    """Before the centre accepts the results there is no result to void (acceptance would recompute it)."""
    from tests.assessments.test_results_builders import batch

    b = batch(1)
    case = service.case_open(
        actor=b.centre,
        subject_kind="candidate",
        institution=b.plan.institution,
        title="替考",
        facts="他人代考",
        source="direct",
        candidate=b.candidates[0],
    )
    with pytest.raises(TransitionError, match="尚未审核通过"):
        service.case_decide(case=case, actor=b.centre, decision="成绩无效", sanctions=[SanctionSpec(K.VOID_RESULT)])
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_open_cases_are_counted_for_the_dashboards_within_scope(i):
    from oversight.selectors.cases import cases_for, open_case_count

    candidate_case(i)
    decided = institution_case(i)
    service.case_decide(case=decided, actor=i.centre, decision="批评教育")
    assert open_case_count(i.centre) == 1 and open_case_count(i.staff) == 1
    outsider = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    assert open_case_count(outsider) == 0 and not cases_for(outsider).exists()
    assert open_case_count(factories.user(Role.EXPERT)) == 0


def test_a_barred_candidate_is_refused_when_added_to_a_new_plan(i):
    import time_machine

    from assessments import services as assessment_services
    from assessments.models import AssessmentMethod
    from tests.assessments.test_results_builders import FILED_ON, at

    student = i.b.candidates[0].student
    case = candidate_case(i)
    service.case_decide(
        case=case,
        actor=i.centre,
        decision="禁止参加评价",
        sanctions=[SanctionSpec(K.BAR_CANDIDATE, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2028, 12, 31))],
    )
    inst = i.plan.institution
    with time_machine.travel(FILED_ON, tick=False):
        plan = assessment_services.plan_create(
            institution=inst,
            actor=i.staff,
            occupation=i.plan.occupation,
            level=i.plan.level,
            site=i.plan.site,
            method=AssessmentMethod.RESULT,
            starts_at=at(dt.date(2026, 12, 17)),
            ends_at=at(dt.date(2026, 12, 17), 17),
        )
        with pytest.raises(ValidationError) as refused:
            candidate_services.candidates_add(plan=plan, actor=i.staff, students=[student])
    assert any("被禁止参加职业技能等级评价" in m for m in refused.value.messages)
    assert not plan.candidates.exists()
