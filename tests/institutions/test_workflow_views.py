"""The filing workflow pages: buttons, refusals, scope, uploads, downloads and query counts."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions import selectors, services
from institutions.models import (
    ApplicationStatus,
    Condition,
    EvaluationMethod,
    EvidenceFile,
    FilingApplication,
)
from portal.models import Role
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import MINIMAL_PDF, Cast, corresponding_major, pdf, welder

pytestmark = pytest.mark.django_db
S = ApplicationStatus


@pytest.fixture
def cast():
    return Cast(factories.school())


def detail_url(app) -> str:
    return reverse("institutions:application_detail", args=[app.pk])


def act_url(app, action: str) -> str:
    return reverse("institutions:application_act", args=[app.pk, action])


def buttons(html: str) -> list[str]:
    block = re.search(r'data-testid="actions">(.*?)</div>', html, re.S)
    return re.findall(r'data-action="([a-z_]+)"', block.group(1)) if block else []


def everyone(cast) -> list:
    district = factories.user(
        Role.DISTRICT_HR_OFFICER,
        organisation=factories.organisation("district_hr", district_code=cast.school.organisation.district.code),
    )
    return [
        cast.staff,
        cast.dept,
        cast.centre,
        *cast.experts,
        cast.hr,
        cast.commission,
        district,
        factories.user(Role.SYSTEM_ADMIN),
    ]


# --- Buttons ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stage", ["draft", "submitted", "under_evaluation", "with_panel", "awaiting_consent", "consented"]
)
def test_the_buttons_shown_are_exactly_the_available_actions_for_each_role(cast, stage):
    app = getattr(cast, stage)()
    app = FilingApplication.objects.get(pk=app.pk)
    for user in everyone(cast):
        response = client_for(user).get(detail_url(app))
        if not selectors.application_list(user=user).filter(pk=app.pk).exists():
            # A draft is the school's alone; experts see only files whose panel they sit on.
            assert response.status_code == 404
            continue
        assert response.status_code == 200, user
        expected = [name for name, _t in services.available_actions(app, user)]
        assert buttons(response.content.decode()) == expected, (stage, user.role_labels)


def test_a_returned_application_shows_the_return_comment_and_the_checklist_to_the_school(cast):
    app = cast.submitted()
    services.application_return(application=app, actor=cast.dept, comment="请补充条件4的考核站点照片。")
    html = client_for(cast.staff).get(detail_url(app)).content.decode()
    assert "请补充条件4的考核站点照片。" in html
    assert 'data-testid="checklist"' in html and "材料齐全，符合提交条件，可以提交。" in html
    assert buttons(html) == ["submit", "withdraw"]
    # Authorities see neither the checklist nor the school's edit links.
    html = client_for(cast.dept).get(detail_url(app)).content.decode()
    assert 'data-testid="checklist"' not in html
    assert reverse("institutions:application_edit", args=[app.pk]) not in html


def test_a_draft_lists_what_is_missing_before_it_can_be_submitted(cast):
    app = services.application_create(school=cast.school, actor=cast.staff)
    html = client_for(cast.staff).get(detail_url(app)).content.decode()
    assert "条件1：请填写情况说明。" in html and "请至少申报一个职业（工种）。" in html


# --- Refusals: 409 for the wrong state, 403 for the wrong person, 404 outside scope ----


def test_a_wrong_state_post_gives_409_with_the_message(cast):
    app = cast.submitted()
    response = client_for(cast.staff).post(act_url(app, "submit"))
    assert response.status_code == 409
    assert "申请当前状态为“已提交，待受理”，不能执行“提交申请”。" in response.content.decode()
    assert FilingApplication.objects.get(pk=app.pk).round == 1


def test_a_refusal_raised_by_the_service_is_a_409_with_its_message(cast):
    app = cast.with_panel()
    response = client_for(cast.lead).post(
        reverse("institutions:conclude", args=[app.pk]), {"conclusion": "pass", "opinion": "具备条件"}
    )
    assert response.status_code == 409
    assert "条件1尚无评估发现。" in response.content.decode()
    assert FilingApplication.objects.get(pk=app.pk).status == S.UNDER_EVALUATION


def test_a_step_of_another_role_is_403_and_an_unknown_step_is_404(cast):
    app = cast.submitted()
    assert client_for(cast.centre).post(act_url(app, "accept")).status_code == 403
    assert client_for(cast.dept).get(act_url(app, "approve")).status_code == 404


def test_editing_a_submitted_application_is_409(cast):
    app = cast.submitted()
    response = client_for(cast.staff).get(reverse("institutions:application_edit", args=[app.pk]))
    assert response.status_code == 409
    assert "申请已提交，不能修改" in response.content.decode()


def test_an_out_of_scope_application_is_404(cast):
    app = cast.with_panel()
    outsider_school = factories.school(district_code="310112")
    outsiders = [
        factories.user(Role.SCHOOL_STAFF, organisation=outsider_school.organisation),
        factories.user(
            Role.DISTRICT_HR_OFFICER, organisation=factories.organisation("district_hr", district_code="310112")
        ),
        factories.user(Role.EXPERT),  # not on this panel
    ]
    for user in outsiders:
        client = client_for(user)
        assert client.get(detail_url(app)).status_code == 404, user.role_labels
        assert client.get(act_url(app, "withdraw")).status_code == 404, user.role_labels
    # A draft is not visible to the authorities yet.
    draft = Cast(factories.school()).draft()
    assert client_for(cast.dept).get(detail_url(draft)).status_code == 404


# --- Evidence --------------------------------------------------------------------------


def test_uploading_a_text_file_renamed_pdf_is_refused_with_the_content_type_message(cast):
    app = services.application_create(school=cast.school, actor=cast.staff)
    url = reverse("institutions:condition_edit", args=[app.pk, 4])
    fake = SimpleUploadedFile("考核站点.pdf", "这是一个文本文件，不是PDF。".encode(), content_type="application/pdf")
    response = client_for(cast.staff).post(url, {"part": "evidence", "files": [fake]})
    assert response.status_code == 200
    assert "文件“考核站点.pdf”不是 PDF、JPEG 或 PNG（按文件内容判断，而非扩展名）。" in response.content.decode()
    assert not EvidenceFile.objects.filter(answer__application=app).exists()


def test_a_real_pdf_is_kept_and_several_files_may_be_sent_at_once(cast):
    app = services.application_create(school=cast.school, actor=cast.staff)
    url = reverse("institutions:condition_edit", args=[app.pk, 4])
    response = client_for(cast.staff).post(url, {"part": "evidence", "files": [pdf("站点一.pdf"), pdf("站点二.pdf")]})
    assert response.status_code == 302
    names = set(EvidenceFile.objects.filter(answer__application=app).values_list("original_name", flat=True))
    assert names == {"站点一.pdf", "站点二.pdf"}


def test_the_statement_is_saved_through_the_page(cast):
    app = services.application_create(school=cast.school, actor=cast.staff)
    url = reverse("institutions:condition_edit", args=[app.pk, 2])
    response = client_for(cast.staff).post(url, {"part": "statement", "statement": "财务制度健全。"})
    assert response.status_code == 302
    assert app.answers.get(condition=2).statement == "财务制度健全。"


def test_evidence_downloads_as_an_attachment_with_its_name_and_is_404_for_another_schools_staff(cast):
    app = cast.submitted()
    evidence = EvidenceFile.objects.filter(answer__application=app).first()
    url = reverse("institutions:evidence_download", args=[evidence.pk])
    response = client_for(cast.staff).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MINIMAL_PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert client_for(cast.dept).get(url).status_code == 200
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    assert client_for(other_staff).get(url).status_code == 404


def test_another_schools_staff_cannot_delete_evidence_or_occupations(cast):
    app = services.application_create(school=cast.school, actor=cast.staff)
    services.evidence_add(application=app, actor=cast.staff, condition=1, upload=pdf())
    evidence = EvidenceFile.objects.get(answer__application=app)
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    response = client_for(other_staff).post(reverse("institutions:evidence_delete", args=[evidence.pk]))
    assert response.status_code == 404
    response = client_for(cast.staff).post(reverse("institutions:evidence_delete", args=[evidence.pk]))
    assert response.status_code == 302 and not EvidenceFile.objects.filter(pk=evidence.pk).exists()


def test_evidence_cannot_be_deleted_once_submitted(cast):
    app = cast.submitted()
    evidence = EvidenceFile.objects.filter(answer__application=app).first()
    response = client_for(cast.staff).post(reverse("institutions:evidence_delete", args=[evidence.pk]))
    assert response.status_code == 409
    assert EvidenceFile.objects.filter(pk=evidence.pk).exists()


# --- The whole way through the pages ---------------------------------------------------


@pytest.mark.needs("pango")
def test_a_filing_runs_from_draft_to_receipt_through_the_pages(cast, django_capture_on_commit_callbacks):
    staff, dept, centre = client_for(cast.staff), client_for(cast.dept), client_for(cast.centre)
    response = staff.post(reverse("institutions:application_create"), {"kind": "initial"})
    app = FilingApplication.objects.get(school=cast.school)
    assert response.status_code == 302 and response["Location"] == detail_url(app)

    staff.post(
        reverse("institutions:application_edit", args=[app.pk]), {"contact_name": "王老师", "contact_phone": "021-1"}
    )
    for condition in Condition.values:
        url = reverse("institutions:condition_edit", args=[app.pk, condition])
        staff.post(url, {"part": "statement", "statement": f"条件{condition}说明"})
        staff.post(url, {"part": "evidence", "files": [pdf()]})
    # The work plan and a site with a monitored room (annex §1.1 item 4, §4.2).
    plan_url = reverse("institutions:plan_sites", args=[app.pk])
    assert staff.post(plan_url, {"part": "work_plan", "file": pdf("工作方案.pdf")}).status_code == 302
    assert staff.post(plan_url, {"part": "site", "name": "实训楼站点", "address": "实训楼2层"}).status_code == 302
    site = app.sites.get()
    room_url = reverse("institutions:room_add", args=[site.pk])
    assert staff.post(room_url, {"name": "201", "capacity": "30", "av_monitoring": "on"}).status_code == 302
    assert "实训楼站点" in staff.get(plan_url).content.decode()
    major = corresponding_major(cast.school, welder())
    page = staff.get(reverse("institutions:occupation_add", args=[app.pk])).content.decode()
    # Only what the school may apply for is offered: no access-type or non-skill occupation.
    assert "准入类职业资格，不能申报" not in page and "非技能类职业，不能申报" not in page and major.name in page
    response = staff.post(
        reverse("institutions:occupation_add", args=[app.pk]),
        {
            "occupation": welder().pk,
            "lowest_level": 5,
            "highest_level": 3,
            "basis": "national_standard",
            "majors": [major.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()
    app.refresh_from_db()
    assert services.submission_problems(app) == []

    response = staff.post(act_url(app, "submit"))  # without the declaration: the form again, nothing moves
    assert response.status_code == 200 and "请勾选真实性声明后再提交" in response.content.decode()
    assert FilingApplication.objects.get(pk=app.pk).status == S.DRAFT
    response = staff.post(act_url(app, "submit"), {"declaration": "on"})
    assert response.status_code == 302, re.findall(r"alert[^>]*>(.*?)</div>", response.content.decode(), re.S)
    # Returning needs a comment.
    response = dept.post(act_url(app, "return"), {"comment": ""})
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert dept.post(act_url(app, "accept"), {"comment": "材料齐全"}).status_code == 302

    # The panel: an even number is refused, then three experts with a lead.
    panel_url = reverse("institutions:panel_form", args=[app.pk])
    response = centre.post(panel_url, {"experts": [e.pk for e in cast.experts[:2]], "lead": cast.lead.pk})
    assert response.status_code == 200 and "3人及以上单数" in response.content.decode()
    assert centre.post(panel_url, {"experts": [e.pk for e in cast.experts], "lead": cast.lead.pk}).status_code == 302

    member = client_for(cast.experts[1])
    findings_url = reverse("institutions:findings", args=[app.pk])
    assert member.get(findings_url).status_code == 409  # the department has not agreed to the panel yet
    assert dept.post(act_url(app, "agree_panel"), {"comment": "同意"}).status_code == 302
    half = {"c1_met": "yes", "c1_remarks": "符合"}  # no method ticked: refused, what was typed kept
    response = member.post(findings_url, half)
    assert response.status_code == 200 and "请至少选择一种评估方式。" in response.content.decode()
    assert "符合</textarea>" in response.content.decode()
    applied = app.occupations.get()
    data = {f"o{applied.pk}_sound": "yes"}
    for condition in Condition.values:
        data[f"c{condition}_methods"] = [EvaluationMethod.DOCUMENT_REVIEW, EvaluationMethod.SITE_INSPECTION]
        data[f"c{condition}_met"] = "yes"
        data[f"c{condition}_remarks"] = "符合"
    assert member.post(findings_url, data).status_code == 302
    lead = client_for(cast.lead)
    response = lead.post(
        reverse("institutions:conclude", args=[app.pk]), {"conclusion": "pass", "opinion": "具备评价机构条件"}
    )
    assert response.status_code == 302

    hr = client_for(cast.hr)
    response = hr.post(act_url(app, "consent"), {"agreed": "no", "comment": ""})
    assert response.status_code == 200 and "不同意备案须写明理由。" in response.content.decode()
    assert hr.post(act_url(app, "consent"), {"agreed": "yes", "comment": "同意"}).status_code == 302
    assert client_for(cast.commission).post(act_url(app, "consent"), {"agreed": "yes"}).status_code == 302

    confirm_url = reverse("institutions:confirm", args=[app.pk])
    form = centre.get(confirm_url)
    assert 'value="S"' in form.content.decode() and 'value="0000"' in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the receipt's PDF is rendered after commit
        response = centre.post(
            confirm_url,
            {
                "ministry_report_ref": "人社鉴备〔2026〕12号",
                "ministry_reported_on": "2026-11-20",
                "category_letter": "S",
                "ministry_code": "0000",
                "site_sequence": cast.site_sequence,
            },
        )
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.status == S.FILED

    receipt = staff.get(reverse("institutions:receipt_download", args=[app.pk]))
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    assert receipt["Content-Disposition"].startswith("inline;")
    assert b"".join(receipt.streaming_content).startswith(b"%PDF")
    html = staff.get(detail_url(app)).content.decode()
    for step in ("提交申请", "受理，进入技术评估", "组建或调整评估专家组", "签署评估结论", "报部备案并出具回执"):
        assert step in html


def test_an_expert_who_declares_a_conflict_leaves_the_file(cast):
    app = cast.with_panel()
    expert = client_for(cast.experts[2])
    response = expert.post(act_url(app, "declare_conflict"), {"comment": ""})
    assert response.status_code == 200  # a reason is required
    response = expert.post(act_url(app, "declare_conflict"), {"comment": "曾在该校兼职授课"})
    assert response.status_code == 302 and response["Location"] == reverse("institutions:application_list")
    assert expert.get(detail_url(app)).status_code == 404
    html = client_for(cast.centre).get(detail_url(app)).content.decode()
    assert "曾在该校兼职授课" in html


# --- Query counts ----------------------------------------------------------------------


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_detail_page_keeps_a_constant_number_of_queries_as_findings_and_events_grow(
    cast, django_assert_max_num_queries
):
    small = cast.with_panel()
    other = Cast(factories.school())
    other.experts, other.centre = cast.experts, cast.centre
    big = other.submitted()
    for n in range(3):  # three more rounds
        services.application_return(application=big, actor=other.dept, comment=f"第{n + 1}次退回")
        services.evidence_add(application=big, actor=other.staff, condition=1, upload=pdf(f"补充{n}.pdf"))
        services.application_submit(application=big, actor=other.staff, declared=True)
    services.application_accept(application=big, actor=other.dept)
    services.panel_form(application=big, actor=cast.centre, experts=cast.experts, lead=cast.lead)
    services.panel_agree(application=big, actor=other.dept)
    for expert in cast.experts:  # every expert's own findings
        other.record_all_findings(big, expert=expert)

    for user in (cast.centre, cast.lead):
        client = client_for(user)
        baseline = _queries_for(client, detail_url(small))
        with django_assert_max_num_queries(baseline):
            assert client.get(detail_url(big)).status_code == 200


def test_the_home_page_shows_what_waits_for_each_role(cast):
    submitted = cast.submitted()
    assert "待受理" in client_for(cast.dept).get("/").content.decode()
    services.application_accept(application=submitted, actor=cast.dept)
    assert "待组建评估专家组" in client_for(cast.centre).get("/").content.decode()
    services.panel_form(application=submitted, actor=cast.centre, experts=cast.experts, lead=cast.lead)
    assert "待会同确认评估专家组" in client_for(cast.dept).get("/").content.decode()
    services.panel_agree(application=submitted, actor=cast.dept)
    assert "记录评估发现" in client_for(cast.experts[1]).get("/").content.decode()
    cast.record_all_findings(submitted)
    assert "签署评估结论" in client_for(cast.lead).get("/").content.decode()
    services.panel_conclude(application=submitted, actor=cast.lead, passed=True, opinion="通过")
    for officer in (cast.hr, cast.commission):
        assert "待出具备案确认意见" in client_for(officer).get("/").content.decode()
    services.consent_record(application=submitted, actor=cast.hr, agreed=True)
    assert "待出具备案确认意见" not in client_for(cast.hr).get("/").content.decode()
    services.consent_record(application=submitted, actor=cast.commission, agreed=True)
    assert "待报部备案并出具回执" in client_for(cast.centre).get("/").content.decode()


def test_the_home_page_tells_the_school_to_amend_a_returned_application(cast):
    app = cast.submitted()
    services.application_return(application=app, actor=cast.dept, comment="请补充站点照片")
    html = client_for(cast.staff).get("/").content.decode()
    assert "被退回修改" in html and "请补充站点照片" in html


def test_the_home_panel_keeps_a_constant_number_of_queries_as_work_piles_up(cast, django_assert_max_num_queries):
    def pile(n: int) -> None:
        """``n`` more applications in each queue: to take in, needing a panel, under the experts."""
        for stage in ("submitted", "under_evaluation", "with_panel"):
            for _ in range(n):
                other = Cast(factories.school())
                other.dept, other.centre, other.experts = cast.dept, cast.centre, cast.experts
                getattr(other, stage)()

    pile(1)
    clients = {user: client_for(user) for user in (cast.dept, cast.centre, cast.lead, cast.experts[1])}
    baseline = {user: _queries_for(client, "/") for user, client in clients.items()}
    pile(3)
    for user, client in clients.items():
        with django_assert_max_num_queries(baseline[user]):
            assert client.get("/").status_code == 200


def test_deleting_a_site_or_a_room_asks_for_confirmation_first(cast):
    app = cast.draft()
    site = app.sites.get()
    room = site.rooms.get()
    staff = client_for(cast.staff)
    ask = staff.get(reverse("institutions:room_delete", args=[room.pk]))
    assert (
        ask.status_code == 200 and "确定要删除" in ask.content.decode() and room.site.rooms.filter(pk=room.pk).exists()
    )
    assert staff.post(reverse("institutions:room_delete", args=[room.pk])).status_code == 302
    assert not site.rooms.exists()
    ask = staff.get(reverse("institutions:site_delete", args=[site.pk]))
    assert ask.status_code == 200 and site.name in ask.content.decode() and app.sites.exists()
    assert staff.post(reverse("institutions:site_delete", args=[site.pk])).status_code == 302
    assert not app.sites.exists()
