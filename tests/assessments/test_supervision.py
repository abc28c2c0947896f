"""External quality supervision of a batch (issue 8 item 5; notice annex §2.4 and §4.2)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from assessments import services as plan_services
from assessments.models import (
    AssessmentMethod,
    FindingEvidence,
    FindingKind,
    SupervisingBody,
    SupervisionAssignment,
    SupervisionFinding,
)
from assessments.services import supervision as services
from institutions.models import Institution
from portal.i18n import shown
from portal.models import Notification, Role
from portal.workflow import TransitionError
from schools.models import Level
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import MINIMAL_PDF, Cast

pytestmark = pytest.mark.django_db
TODAY = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(TODAY, tick=False):
        yield


def pdf(name: str = "现场照片说明.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def make_plan(cast, *, submit: bool = True):
    inst = Institution.objects.get(school=cast.school)
    start = timezone.make_aware(dt.datetime(2026, 12, 10, 9))
    plan = plan_services.plan_create(
        institution=inst,
        actor=cast.staff,
        occupation=inst.occupations.get(),
        level=Level.LEVEL_4,
        site=inst.sites.get(),
        method=AssessmentMethod.RESULT,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=8),
    )
    return plan_services.plan_submit(plan=plan, actor=cast.staff) if submit else plan


def bureau(district_code: str = "310115"):
    return factories.user(
        Role.DISTRICT_HR_OFFICER, organisation=factories.organisation("district_hr", district_code=district_code)
    )


@pytest.fixture
def batch():
    cast = Cast(factories.school())
    cast.filed()
    return cast, make_plan(cast)


@pytest.fixture
def assigned(batch):
    cast, plan = batch
    supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    assignment = services.supervisor_assign(plan=plan, actor=cast.centre, supervisor=supervisor)
    return cast, plan, assignment


def titles(user) -> list[str]:
    return [shown(n.title) for n in Notification.objects.filter(recipient=user)]


# --- Assignment ---------------------------------------------------------------------------------


def test_rule_the_centre_assigns_supervisors_to_a_filed_batch(batch):
    cast, plan = batch
    supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    assignment = services.supervisor_assign(plan=plan, actor=cast.centre, supervisor=supervisor)
    assert assignment.body == SupervisingBody.CENTRE and assignment.assigned_by == cast.centre
    assert any("您被派往督导评价批次" in t for t in titles(supervisor))
    assert assignment.history.first().history_user == cast.centre


def test_rule_the_district_bureau_of_the_schools_district_assigns_supervisors(batch):
    cast, plan = batch
    supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    assignment = services.supervisor_assign(plan=plan, actor=bureau("310115"), supervisor=supervisor)
    assert assignment.body == SupervisingBody.DISTRICT


def test_rule_the_municipal_hr_bureau_assigns_supervisors(batch):
    """Annex §4.2: 接受市、区人力资源社会保障部门的外部质量督导 (the notice names the municipal bureau)."""
    cast, plan = batch
    supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    hr = factories.user(Role.MUNICIPAL_HR_OFFICER)
    assignment = services.supervisor_assign(plan=plan, actor=hr, supervisor=supervisor)
    assert assignment.body == SupervisingBody.MUNICIPAL_HR and assignment.assigned_by == hr


def test_rule_another_districts_bureau_may_not_assign(batch):
    cast, plan = batch
    supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    with pytest.raises(PermissionDenied):
        services.supervisor_assign(plan=plan, actor=bureau("310112"), supervisor=supervisor)
    for role in (Role.SCHOOL_STAFF, Role.COMMISSION_OFFICER, Role.EXPERT, Role.QUALITY_SUPERVISOR):
        with pytest.raises(PermissionDenied):
            services.supervisor_assign(plan=plan, actor=factories.user(role), supervisor=supervisor)
    assert not SupervisionAssignment.objects.exists()
    # Through the page: the other district's bureau does not even see the batch.
    other = client_for(bureau("310112"))
    assert other.get(reverse("assessments:supervision_assign", args=[plan.pk])).status_code == 404


def test_rule_only_quality_supervisors_are_assigned(batch):
    cast, plan = batch
    with pytest.raises(ValidationError, match="不是质量督导员"):
        services.supervisor_assign(plan=plan, actor=cast.centre, supervisor=factories.user(Role.EXPERT))


def test_rule_a_supervisor_is_assigned_once_per_batch(assigned):
    cast, plan, assignment = assigned
    with pytest.raises(ValidationError, match="已派往本批次"):
        services.supervisor_assign(plan=plan, actor=cast.centre, supervisor=assignment.supervisor)


def test_rule_only_a_filed_batch_is_supervised(batch):
    cast, _plan = batch
    draft = make_plan(cast, submit=False)
    with pytest.raises(TransitionError, match="只有已报备的评价计划"):
        services.supervisor_assign(plan=draft, actor=cast.centre, supervisor=factories.user(Role.QUALITY_SUPERVISOR))


def test_rule_a_supervisor_is_unassigned_only_while_nothing_is_recorded(assigned):
    cast, plan, assignment = assigned
    second = services.supervisor_assign(
        plan=plan, actor=cast.centre, supervisor=factories.user(Role.QUALITY_SUPERVISOR)
    )
    services.supervisor_unassign(assignment=second, actor=bureau("310115"))
    assert not SupervisionAssignment.objects.filter(pk=second.pk).exists()
    services.visit_record(
        assignment=assignment, actor=assignment.supervisor, visited_at=timezone.now(), notes="考场秩序良好"
    )
    with pytest.raises(TransitionError, match="已记录督导情况"):
        services.supervisor_unassign(assignment=assignment, actor=cast.centre)
    page = client_for(cast.centre).post(reverse("assessments:supervision_unassign", args=[assignment.pk]))
    assert page.status_code == 409 and "已记录督导情况" in page.content.decode()


def test_assignment_through_the_page_notifies_the_supervisor(batch):
    cast, plan = batch
    supervisor = factories.user(Role.QUALITY_SUPERVISOR)
    centre = client_for(cast.centre)
    url = reverse("assessments:supervision_assign", args=[plan.pk])
    assert supervisor.full_name in centre.get(url).content.decode()
    response = centre.post(url, {"supervisor": supervisor.pk})
    assert response.status_code == 302
    assert SupervisionAssignment.objects.get(plan=plan).supervisor == supervisor
    assert titles(supervisor)


# --- The supervisor's scope ---------------------------------------------------------------------


def test_rule_a_supervisor_sees_only_the_assigned_batch(assigned):
    cast, plan, assignment = assigned
    other_plan = make_plan(cast)
    me = client_for(assignment.supervisor)
    page = me.get(reverse("assessments:plan_detail", args=[plan.pk]))
    assert page.status_code == 200 and "外部质量督导" in page.content.decode()
    assert me.get(reverse("assessments:plan_detail", args=[other_plan.pk])).status_code == 404
    listed = me.get(reverse("assessments:plan_list")).content.decode()
    assert f"#{plan.pk}<" in listed and f"#{other_plan.pk}<" not in listed
    # Another supervisor, not assigned: 404 on the batch and on the assignment's pages.
    stranger = client_for(factories.user(Role.QUALITY_SUPERVISOR))
    assert stranger.get(reverse("assessments:plan_detail", args=[plan.pk])).status_code == 404
    assert stranger.get(reverse("assessments:supervision_visit", args=[assignment.pk])).status_code == 404


def test_rule_only_the_assigned_supervisor_records(assigned):
    cast, plan, assignment = assigned
    with pytest.raises(PermissionDenied):
        services.visit_record(assignment=assignment, actor=cast.centre, visited_at=timezone.now(), notes="x")
    assert client_for(cast.staff).get(reverse("assessments:supervision_visit", args=[assignment.pk])).status_code == 403


# --- Visits, findings, evidence -------------------------------------------------------------------


def test_a_supervisor_records_a_visit_through_the_page(assigned):
    cast, plan, assignment = assigned
    me = client_for(assignment.supervisor)
    url = reverse("assessments:supervision_visit", args=[assignment.pk])
    empty = me.post(url, {"visited_at": "2026-11-26T08:30", "notes": " "})
    assert empty.status_code == 200 and not assignment.visits.exists()
    response = me.post(url, {"visited_at": "2026-11-26T08:30", "notes": "抽查理论考场101，监考到位"})
    assert response.status_code == 302
    visit = assignment.visits.get()
    assert visit.notes == "抽查理论考场101，监考到位"
    assert (
        "抽查理论考场101"
        in client_for(cast.centre).get(reverse("assessments:plan_detail", args=[plan.pk])).content.decode()
    )


def test_rule_a_visit_is_not_recorded_in_the_future(assigned):
    _cast, _plan, assignment = assigned
    with pytest.raises(ValidationError, match="不能晚于现在"):
        services.visit_record(
            assignment=assignment,
            actor=assignment.supervisor,
            visited_at=timezone.now() + dt.timedelta(days=2),
            notes="未来",
        )


def test_rule_evidence_files_are_pdf_jpeg_or_png_by_content(assigned):
    cast, plan, assignment = assigned
    me = client_for(assignment.supervisor)
    url = reverse("assessments:supervision_finding", args=[assignment.pk])
    fake = SimpleUploadedFile("照片.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    page = me.post(url, {"kind": FindingKind.IRREGULARITY, "description": "考生携带手机", "files": [fake]})
    text = page.content.decode()
    assert page.status_code == 200
    assert "照片.pdf" in text and "不是 PDF、JPEG 或 PNG（按文件内容判断，而非扩展名）" in text
    assert "考生携带手机" in text  # what was typed is kept
    assert not SupervisionFinding.objects.exists() and not FindingEvidence.objects.exists()


def test_rule_evidence_files_are_at_most_10_mb(assigned, settings):
    _cast, _plan, assignment = assigned
    big = SimpleUploadedFile("大文件.pdf", MINIMAL_PDF + b"0" * (10 * 1024 * 1024), content_type="application/pdf")
    with pytest.raises(ValidationError, match="超过 10 MB"):
        services.finding_add(
            assignment=assignment, actor=assignment.supervisor, kind="irregularity", description="x", uploads=[big]
        )


def test_an_irregularity_with_evidence_is_recorded_and_shown(assigned):
    cast, plan, assignment = assigned
    me = client_for(assignment.supervisor)
    url = reverse("assessments:supervision_finding", args=[assignment.pk])
    image = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    response = me.post(
        url, {"kind": FindingKind.IRREGULARITY, "description": "实操考场缺少一名考评员", "files": [pdf(), image]}
    )
    assert response.status_code == 302
    finding = SupervisionFinding.objects.get()
    assert finding.kind == FindingKind.IRREGULARITY
    assert sorted(e.content_type for e in finding.evidence.all()) == ["application/pdf", "image/png"]
    page = client_for(cast.centre).get(reverse("assessments:plan_detail", args=[plan.pk])).content.decode()
    assert "实操考场缺少一名考评员" in page and "现场照片说明.pdf" in page


# --- Evidence downloads -------------------------------------------------------------------------


def test_rule_evidence_downloads_only_for_those_who_see_the_batch(assigned, settings):
    cast, plan, assignment = assigned
    finding = services.finding_add(
        assignment=assignment, actor=assignment.supervisor, kind="irregularity", description="x", uploads=[pdf()]
    )
    evidence = finding.evidence.get()
    url = reverse("assessments:supervision_evidence", args=[evidence.pk])
    for user in (assignment.supervisor, cast.centre, cast.staff, bureau("310115"), cast.hr):
        response = client_for(user).get(url)
        assert response.status_code == 200, user
        assert b"".join(response.streaming_content) == MINIMAL_PDF
        assert response["Content-Type"] == "application/pdf" and "attachment" in response["Content-Disposition"]
    other_school = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    for user in (factories.user(Role.QUALITY_SUPERVISOR), bureau("310112"), other_school, factories.user(Role.EXPERT)):
        assert client_for(user).get(url).status_code == 404, user
    from django.test import Client

    assert Client().get(url).status_code == 302
    # Never a public media address: the stored file sits outside any served URL.
    assert not settings.STORAGES["default"]["OPTIONS"]["base_url"]
    assert (
        evidence.file.name
        not in client_for(cast.centre).get(reverse("assessments:plan_detail", args=[plan.pk])).content.decode()
    )


# --- Required fixes and the school's answers ---------------------------------------------------------


def test_rule_the_school_answers_each_required_fix(assigned):
    cast, plan, assignment = assigned
    fix = services.finding_add(
        assignment=assignment,
        actor=assignment.supervisor,
        kind=FindingKind.REQUIRED_FIX,
        description="理论考场监考人员不足2名，须补足",
    )
    assert any("督导提出整改要求" in t for t in titles(cast.staff))
    staff = client_for(cast.staff)
    url = reverse("assessments:supervision_answer", args=[fix.pk])
    assert "理论考场监考人员不足2名" in staff.get(url).content.decode()
    assert staff.post(url, {"answer": "已增派监考人员张老师"}).status_code == 302
    fix.refresh_from_db()
    assert fix.answer == "已增派监考人员张老师" and fix.answered_by == cast.staff and fix.answered_at
    assert any("学校已答复整改要求" in t for t in titles(assignment.supervisor))
    for user in (assignment.supervisor, cast.centre, bureau("310115")):
        page = client_for(user).get(reverse("assessments:plan_detail", args=[plan.pk])).content.decode()
        assert "已增派监考人员张老师" in page
    # Only the school's staff answer; an irregularity needs no answer.
    assert client_for(cast.centre).post(url, {"answer": "x"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.fix_answer(finding=fix, actor=assignment.supervisor, answer="x")
    irregularity = services.finding_add(
        assignment=assignment, actor=assignment.supervisor, kind=FindingKind.IRREGULARITY, description="迟到"
    )
    with pytest.raises(TransitionError, match="只有整改要求"):
        services.fix_answer(finding=irregularity, actor=cast.staff, answer="x")


def test_rule_an_empty_answer_is_refused(assigned):
    cast, _plan, assignment = assigned
    fix = services.finding_add(
        assignment=assignment, actor=assignment.supervisor, kind=FindingKind.REQUIRED_FIX, description="补足"
    )
    with pytest.raises(ValidationError, match="请填写整改情况"):
        services.fix_answer(finding=fix, actor=cast.staff, answer="  ")


# --- The report ---------------------------------------------------------------------------------


def test_rule_the_report_is_filed_once_and_read_only_after(assigned):
    cast, plan, assignment = assigned
    district = bureau("310115")
    other_district = bureau("310112")
    me = client_for(assignment.supervisor)
    url = reverse("assessments:supervision_report", args=[assignment.pk])
    assert me.post(url, {"report": "本批次总体规范，发现一处整改要求。"}).status_code == 302
    assignment.refresh_from_db()
    assert assignment.report == "本批次总体规范，发现一处整改要求。" and assignment.report_filed_at
    assert any("外部质量督导报告已提交" in t for t in titles(cast.centre))
    assert any("外部质量督导报告已提交" in t for t in titles(district))
    assert not titles(other_district)
    # Read-only afterwards: the page, a second report, a visit and a finding are refused (409).
    again = me.post(url, {"report": "改写"})
    assert again.status_code == 409 and "督导报告已提交" in again.content.decode()
    assert me.get(url).status_code == 409
    assert me.get(reverse("assessments:supervision_visit", args=[assignment.pk])).status_code == 409
    with pytest.raises(TransitionError):
        services.report_file(assignment=assignment, actor=assignment.supervisor, report="改写")
    with pytest.raises(TransitionError):
        services.finding_add(assignment=assignment, actor=assignment.supervisor, kind="irregularity", description="x")
    assignment.refresh_from_db()
    assert assignment.report == "本批次总体规范，发现一处整改要求。"
    for user in (cast.centre, district):
        page = client_for(user).get(reverse("assessments:plan_detail", args=[plan.pk])).content.decode()
        assert "本批次总体规范" in page and "不可修改" in page


def test_rule_an_empty_report_is_refused(assigned):
    _cast, _plan, assignment = assigned
    with pytest.raises(ValidationError, match="请填写督导报告"):
        services.report_file(assignment=assignment, actor=assignment.supervisor, report=" ")


def test_only_the_assigned_supervisor_files_the_report(assigned):
    cast, _plan, assignment = assigned
    with pytest.raises(PermissionDenied):
        services.report_file(assignment=assignment, actor=cast.centre, report="x")


# --- Home panel ---------------------------------------------------------------------------------


def test_a_supervisor_finds_the_assigned_batches_on_the_home_page(assigned):
    cast, plan, assignment = assigned
    page = client_for(assignment.supervisor).get(reverse("home")).content.decode()
    assert "督导任务" in page and cast.school.name in page and "待提交督导报告" in page
    assert "督导任务" not in client_for(cast.staff).get(reverse("home")).content.decode()
