"""Violation case pages: open from a supervision report or a result anomaly, decide, dismiss,
evidence, trace-back, the party's view, the list's filters, export and query count."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from assessments.services import supervision
from certificates.models import CertificateStatus
from oversight.models import CaseSource, CaseStatus, ViolationCase
from oversight.services import cases as service
from portal.models import Role
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import MINIMAL_PDF
from tests.oversight.case_builders import candidate_case, institution_case, issued, staff_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def i():
    return issued(2)


def filed_report(i, text="考场内发现考生使用手机，考评人员未制止。"):
    supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    assignment = supervision.supervisor_assign(plan=i.plan, actor=i.centre, supervisor=supervisor)
    return supervision.report_file(assignment=assignment, actor=supervisor, report=text)


def test_a_filed_supervision_report_offers_to_open_a_case_prefilled_with_the_report(i):
    report = filed_report(i)
    centre = client_for(i.centre)
    plan_page = centre.get(reverse("assessments:plan_detail", args=[i.plan.pk])).content.decode()
    url = reverse("oversight:case_create") + f"?supervision={report.pk}"
    assert url.replace("&", "&amp;") in plan_page or url in plan_page
    page = centre.get(url)
    assert page.status_code == 200 and "考场内发现考生使用手机" in page.content.decode()
    student = i.b.candidates[0].student
    response = centre.post(
        url,
        {
            "subject_kind": "candidate",
            "candidate": student.student_number,
            "title": "考生使用手机",
            "facts": "督导发现",
        },
    )
    case = ViolationCase.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("oversight:case_detail", args=[case.pk])
    assert (case.source, case.supervision, case.candidate, case.plan) == (
        CaseSource.SUPERVISION,
        report,
        i.b.candidates[0],
        i.plan,
    )


def test_the_case_form_names_the_field_when_the_candidate_is_not_in_the_batch(i):
    centre = client_for(i.centre)
    url = reverse("oversight:case_create") + f"?plan={i.plan.pk}&source=anomaly"
    response = centre.post(
        url, {"subject_kind": "candidate", "candidate": "NOBODY", "title": "异常", "facts": "成绩雷同"}
    )
    assert response.status_code == 200
    assert "中没有学号或证件号码为“NOBODY”的考生" in response.content.decode()
    assert not ViolationCase.objects.exists()
    response = centre.post(url, {"subject_kind": "institution", "title": "成绩雷同", "facts": "多名考生成绩完全相同"})
    case = ViolationCase.objects.get()
    assert case.source == CaseSource.ANOMALY and case.plan == i.plan


def test_a_supervisor_cannot_open_a_case_from_their_own_report(i):
    report = filed_report(i)
    response = client_for(report.supervisor).get(reverse("oversight:case_create") + f"?supervision={report.pk}")
    assert response.status_code == 403


def test_deciding_on_the_page_revokes_the_certificate_and_shows_the_decision(i):
    case = candidate_case(i)
    cert = i.certificates[0]
    centre = client_for(i.centre)
    url = reverse("oversight:case_decide", args=[case.pk])
    page = centre.get(url).content.decode()
    assert cert.number in page and "宣布该考生评价结果无效" in page and "暂停" in page
    response = centre.post(url, {"decision": "经查属实，撤销证书", "certificates": [cert.pk]})
    assert response.status_code == 302
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REVOKED
    detail = centre.get(reverse("oversight:case_detail", args=[case.pk])).content.decode()
    assert "经查属实，撤销证书" in detail and cert.number in detail and "撤销证书" in detail


def test_a_decision_without_text_is_refused_on_the_page_and_nothing_changes(i):
    case = candidate_case(i)
    response = client_for(i.centre).post(
        reverse("oversight:case_decide", args=[case.pk]), {"decision": "", "certificates": [i.certificates[0].pk]}
    )
    assert (
        response.status_code == 200
        and "这个字段是必填项" in response.content.decode()
        or "必填" in (response.content.decode())
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    i.certificates[0].refresh_from_db()
    assert i.certificates[0].status == CertificateStatus.VALID


def test_the_school_sees_only_the_sanctions_it_may_decide(i):
    case = candidate_case(i)
    page = client_for(i.staff).get(reverse("oversight:case_decide", args=[case.pk])).content.decode()
    assert "宣布该考生评价结果无效" in page and "撤销证书" in page
    assert "禁入起始日期" not in page and "id_institution_action" not in page
    assert client_for(i.staff).get(reverse("oversight:case_decide", args=[institution_case(i).pk])).status_code == 403


def test_dismissing_on_the_page_needs_a_reason(i):
    case = candidate_case(i)
    url = reverse("oversight:case_dismiss", args=[case.pk])
    response = client_for(i.centre).post(url, {"reason": " "})
    assert response.status_code == 200 and "不予处理须写明理由" in response.content.decode()
    assert client_for(i.centre).post(url, {"reason": "经查不属实"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DISMISSED
    # A decided case: the step answers 409 with the reason.
    response = client_for(i.centre).get(url)
    assert response.status_code == 409 and "不予处理" in response.content.decode()


def test_evidence_is_content_checked_and_downloaded_only_within_scope(i):
    case = candidate_case(i)
    url = reverse("oversight:case_evidence_add", args=[case.pk])
    fake = SimpleUploadedFile("照片.pdf", b"not a pdf at all", content_type="application/pdf")
    response = client_for(i.centre).post(url, {"files": [fake], "description": "现场照片"})
    assert response.status_code == 200 and "不是 PDF、JPEG 或 PNG" in response.content.decode()
    good = SimpleUploadedFile("笔录.pdf", MINIMAL_PDF, content_type="application/pdf")
    assert client_for(i.centre).post(url, {"files": [good], "description": "询问笔录"}).status_code == 302
    evidence = case.evidence.get()
    download = reverse("oversight:case_evidence", args=[evidence.pk])
    assert client_for(i.staff).get(download).status_code == 200
    outsider = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    assert client_for(outsider).get(download).status_code == 404


def test_the_trace_back_shows_the_batch_staff_scores_certificates_and_supervision(i):
    filed_report(i, text="督导报告：理论考场秩序混乱。")
    case = candidate_case(i)
    page = client_for(i.centre).get(reverse("oversight:case_trace", args=[case.pk])).content.decode()
    candidate = i.b.candidates[0]
    assert candidate.student.student_number in page and "80" in page
    assert "理论考试 80" in page or "实操考核 80" in page  # each score under its part's name, not its code
    assert "theory " not in page and "practical " not in page
    assert i.certificates[0].number in page
    assert i.b.supervisor.full_name in page  # the internal supervisor on the batch's staff
    assert "理论考场秩序混乱" in page
    assert reverse("assessments:plan_detail", args=[i.plan.pk]) in page


def test_the_barred_staff_member_sees_the_decision_about_them_and_nothing_else(i):
    person = i.b.supervisor
    case = staff_case(i, person)
    other = candidate_case(i)
    service.case_decide(
        case=case,
        actor=i.centre,
        decision="禁止从事考务工作两年",
        sanctions=[service.SanctionSpec("bar_staff", starts_on=i.plan.starts_at.date())],
    )
    client = client_for(person)
    page = client.get(reverse("oversight:case_detail", args=[case.pk]))
    assert page.status_code == 200 and "禁止从事考务工作两年" in page.content.decode()
    assert "作出处理决定" not in page.content.decode().split("</h1>")[1].split("<dl")[0]
    assert client.get(reverse("oversight:case_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("oversight:case_trace", args=[case.pk])).status_code == 403
    listed = client.get(reverse("oversight:case_list")).content.decode()
    assert case.number in listed and other.number not in listed


def test_the_list_filters_and_exports_within_the_users_district(i):
    open_case = candidate_case(i)
    decided = institution_case(i)
    service.case_decide(case=decided, actor=i.centre, decision="批评教育")
    elsewhere = issued(1)
    far = candidate_case(elsewhere)
    district = i.plan.institution.school.organisation.district
    # Make the other school sit in another district.
    org = elsewhere.plan.institution.school.organisation
    org.district = factories.district("310104" if district.code != "310104" else "310105")
    org.save(update_fields=["district"])
    officer = factories.user(
        Role.DISTRICT_HR_OFFICER, organisation=factories.organisation("district_hr", district_code=district.code)
    )
    client = client_for(officer)
    listed = client.get(reverse("oversight:case_list"), {"status": "open"}).content.decode()
    assert open_case.number in listed and decided.number not in listed and far.number not in listed
    export = client.get(reverse("oversight:case_export"))
    ws = load_workbook(io.BytesIO(export.content)).active
    numbers = {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert numbers == {open_case.number, decided.number}
    assert client.get(reverse("oversight:case_detail", args=[far.pk])).status_code == 404
    everything = client_for(i.centre).get(reverse("oversight:case_list"), {"district": district.pk}).content.decode()
    assert open_case.number in everything and far.number not in everything


def test_the_case_list_takes_a_constant_number_of_queries(i):
    centre = client_for(i.centre)
    url = reverse("oversight:case_list")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert centre.get(url).status_code == 200
        return len(ctx.captured_queries)

    candidate_case(i)
    count()  # warm: the first request also loads the session and per-process caches
    few = count()
    for _ in range(6):
        institution_case(i)
        staff_case(i, i.b.supervisor)
    assert count() == few
