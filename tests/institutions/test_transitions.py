"""Each transition: its new state, its record, a repeat, and a wrong role."""

import datetime as dt
import subprocess

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from institutions import selectors, services
from institutions.models import (
    ApplicationEvent,
    ApplicationStatus,
    Finding,
    Institution,
    InstitutionStatus,
)
from institutions.services import TransitionError
from portal.i18n import shown
from portal.models import Notification
from tests import factories
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db
S = ApplicationStatus


@pytest.fixture
def cast():
    return Cast(factories.school())


def last_event(app) -> ApplicationEvent:
    return ApplicationEvent.objects.filter(application=app).latest("id")


def test_submit_moves_to_submitted_records_the_step_and_tells_the_department(cast):
    app = cast.submitted()
    event = last_event(app)
    assert (event.action, event.from_status, event.to_status, event.actor, event.round) == (
        "submit",
        S.DRAFT,
        S.SUBMITTED,
        cast.staff,
        1,
    )
    assert app.history.latest().history_user == cast.staff
    titles = [shown(n.title) for n in Notification.objects.filter(recipient=cast.dept)]
    assert any(t.startswith("新的备案申请待受理") for t in titles)
    with pytest.raises(TransitionError):
        services.application_submit(application=app, actor=cast.staff)


def test_only_the_schools_own_staff_may_submit(cast):
    app = cast.draft()
    other = factories.user("school_staff", organisation=factories.school().organisation)
    for actor in (other, cast.dept, cast.centre):
        with pytest.raises(PermissionDenied):
            services.application_submit(application=app, actor=actor)


def test_return_needs_a_comment_and_every_round_is_kept(cast):
    app = cast.submitted()
    with pytest.raises(ValidationError):
        services.application_return(application=app, actor=cast.dept, comment="  ")
    services.application_return(application=app, actor=cast.dept, comment="条件4佐证材料不清晰")
    app.refresh_from_db()
    assert app.status == S.RETURNED
    assert any(
        shown(n.title).startswith("备案申请被退回修改") for n in Notification.objects.filter(recipient=cast.staff)
    )
    with pytest.raises(TransitionError):
        services.application_return(application=app, actor=cast.dept, comment="再退一次")
    with pytest.raises(PermissionDenied):
        services.application_accept(application=app, actor=cast.staff)
    # The school amends and resubmits: round 2, both rounds visible in the record.
    services.condition_answer_save(application=app, actor=cast.staff, condition=4, statement="补正后的说明")
    services.application_submit(application=app, actor=cast.staff, declared=True)
    app.refresh_from_db()
    assert (app.status, app.round) == (S.SUBMITTED, 2)
    steps = list(app.events.values_list("action", "round", "comment"))
    assert steps == [("submit", 1, ""), ("return", 1, "条件4佐证材料不清晰"), ("submit", 2, "")]
    assert app.answers.get(condition=4).history.count() >= 3  # created, first statement, amended


def test_accept_moves_to_evaluation(cast):
    app = cast.under_evaluation()
    assert app.status == S.UNDER_EVALUATION and last_event(app).actor == cast.dept
    with pytest.raises(TransitionError):
        services.application_accept(application=app, actor=cast.dept)
    with pytest.raises(PermissionDenied):
        services.application_accept(application=app, actor=cast.centre)


def test_withdraw_ends_the_application(cast):
    app = cast.submitted()
    services.application_withdraw(application=app, actor=cast.staff, comment="材料需重新准备")
    app.refresh_from_db()
    assert app.status == S.WITHDRAWN and not app.is_open
    with pytest.raises(TransitionError):
        services.application_withdraw(application=app, actor=cast.staff)


def test_panel_experts_see_that_application_only(cast):
    app = cast.with_panel()
    other_cast = Cast(factories.school())
    other = other_cast.with_panel()
    for expert in cast.experts:
        visible = set(selectors.application_list(user=expert).values_list("pk", flat=True))
        assert app.pk in visible and other.pk not in visible
    with pytest.raises(PermissionDenied):
        services.panel_form(application=other, actor=cast.dept, experts=cast.experts, lead=cast.lead)


def test_when_the_lead_declares_a_conflict_the_centre_names_a_new_lead_and_adds_an_expert(cast):
    app = cast.with_panel()
    services.panel_declare_conflict(application=app, actor=cast.lead, note="系该校兼职教师")
    app.refresh_from_db()
    assert app.panel.lead is None
    with pytest.raises(ValidationError):  # the excluded expert cannot come back
        services.panel_form(application=app, actor=cast.centre, experts=cast.experts, lead=cast.experts[1])
    newcomer = factories.user("expert")
    services.panel_form(application=app, actor=cast.centre, experts=[*cast.experts[1:], newcomer], lead=cast.experts[1])
    panel = type(app.panel).objects.get(pk=app.panel.pk)
    assert panel.lead == cast.experts[1]
    assert app.pk in set(selectors.application_list(user=newcomer).values_list("pk", flat=True))
    assert app.pk not in set(selectors.application_list(user=cast.lead).values_list("pk", flat=True))
    services.panel_agree(application=app, actor=cast.dept)  # a changed panel is agreed again
    cast.record_all_findings(app)
    services.panel_conclude(application=app, actor=cast.experts[1], passed=True, opinion="具备条件")
    app.refresh_from_db()
    assert app.status == S.AWAITING_CONSENT


def test_an_expert_dropped_from_the_panel_loses_access(cast):
    app = cast.with_panel()
    extra = [factories.user("expert") for _ in range(2)]
    services.panel_form(application=app, actor=cast.centre, experts=[*cast.experts, *extra], lead=cast.lead)
    services.panel_form(application=app, actor=cast.centre, experts=[cast.lead, *extra], lead=cast.lead)
    dropped = cast.experts[1]
    assert app.pk not in set(selectors.application_list(user=dropped).values_list("pk", flat=True))
    assert app.panel.members.count() == 3


def test_a_panel_needs_an_odd_number_of_at_least_three_experts(cast):
    app = cast.under_evaluation()
    with pytest.raises(ValidationError):
        services.panel_form(application=app, actor=cast.centre, experts=cast.experts[:2], lead=cast.lead)


def test_a_declared_conflict_of_interest_excludes_the_expert(cast):
    app = cast.with_panel()
    conflicted = cast.experts[2]
    services.panel_declare_conflict(application=app, actor=conflicted, note="曾在该校兼职任教")
    member = app.panel.members.get(expert=conflicted)
    assert member.excluded and member.conflict_note == "曾在该校兼职任教"
    assert app.pk not in set(selectors.application_list(user=conflicted).values_list("pk", flat=True))
    with pytest.raises(PermissionDenied):
        services.findings_record(application=app, actor=conflicted, conditions=[(1, ["document_review"], True, "x")])


def test_findings_are_recorded_per_condition_and_the_lead_signs(cast):
    app = cast.with_panel()
    with pytest.raises(TransitionError):  # every condition and occupation must be judged first
        services.panel_conclude(application=app, actor=cast.lead, passed=True, opinion="通过")
    cast.record_all_findings(app)
    assert Finding.objects.filter(panel=app.panel).count() == 6
    with pytest.raises(PermissionDenied):  # not the lead
        services.panel_conclude(application=app, actor=cast.experts[1], passed=True, opinion="通过")
    services.panel_conclude(application=app, actor=cast.lead, passed=True, opinion="具备条件")
    app.refresh_from_db()
    assert app.status == S.AWAITING_CONSENT and app.panel.signed_by == cast.lead
    with pytest.raises(TransitionError):
        services.panel_conclude(application=app, actor=cast.lead, passed=True, opinion="再签")


def test_a_failed_evaluation_ends_the_application(cast):
    app = cast.with_panel()
    cast.record_all_findings(app, satisfied=False)
    services.panel_conclude(application=app, actor=cast.lead, passed=False, opinion="考核站点不符合要求")
    app.refresh_from_db()
    assert app.status == S.EVALUATION_FAILED and not app.is_open


def test_both_consents_are_needed_and_each_body_decides_once(cast):
    app = cast.awaiting_consent()
    services.consent_record(application=app, actor=cast.hr, agreed=True)
    app.refresh_from_db()
    assert app.status == S.AWAITING_CONSENT
    with pytest.raises(PermissionDenied):
        services.consent_record(application=app, actor=cast.hr, agreed=True)
    with pytest.raises(PermissionDenied):
        services.consent_record(application=app, actor=cast.centre, agreed=True)
    services.consent_record(application=app, actor=cast.commission, agreed=True)
    app.refresh_from_db()
    assert app.status == S.CONSENTED


def test_a_refusal_by_either_body_ends_the_application(cast):
    app = cast.awaiting_consent()
    with pytest.raises(ValidationError):
        services.consent_record(application=app, actor=cast.commission, agreed=False)
    services.consent_record(application=app, actor=cast.commission, agreed=False, comment="布局规划暂不支持")
    app.refresh_from_db()
    assert app.status == S.REFUSED


@pytest.mark.needs("pango", "cjk-font", "poppler-utils")
def test_confirmation_lists_the_institution_for_three_years_and_issues_a_numbered_receipt(cast, tmp_path):
    app, receipt = cast.filed()
    inst = Institution.objects.get(school=cast.school)
    assert app.status == S.FILED and app.institution == inst
    assert inst.code == f"S000031{inst.site_sequence}" and len(inst.code) == 13
    assert inst.valid_until == services.validity_end(inst.confirmed_on)
    assert (inst.valid_until - inst.confirmed_on).days in {1094, 1095}
    row = inst.occupations.get()
    assert (row.occupation.code, row.highest_level, row.valid_until) == ("6-18-02-04", 3, inst.valid_until)
    assert receipt.number.startswith("沪职鉴备〔") and receipt.number.endswith("001号")
    path = tmp_path / "receipt.pdf"
    path.write_bytes(receipt.pdf.read())
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert cast.school.name in text and receipt.number in text and "焊工" in text
    with pytest.raises(TransitionError):
        services.filing_confirm(
            application=app, actor=cast.centre, ministry_report_ref="x", ministry_reported_on=dt.date(2026, 11, 20)
        )


def test_only_the_centre_confirms_a_filing(cast):
    app = cast.consented()
    with pytest.raises(PermissionDenied):
        services.filing_confirm(
            application=app, actor=cast.dept, ministry_report_ref="x", ministry_reported_on=dt.date(2026, 11, 20)
        )


def test_a_filed_institution_may_apply_to_add_an_occupation_through_the_same_path(cast):
    app, _receipt = cast.filed()
    with pytest.raises(TransitionError):
        services.application_create(school=cast.school, actor=cast.staff)  # initial again: refused
    from portal.models import Occupation

    electrician = Occupation.objects.get(code="6-31-01-03", work_type="")
    cast2 = Cast(cast.school, staff=cast.staff)
    second, receipt2 = cast2.filed(occupation=electrician, kind="add_occupation")
    inst = Institution.objects.get(school=cast.school)
    assert set(inst.occupations.values_list("occupation__code", flat=True)) == {"6-18-02-04", "6-31-01-03"}
    assert receipt2.number.endswith("002号") and second.institution == inst


def test_adding_an_occupation_already_filed_is_refused(cast):
    cast.filed()
    cast2 = Cast(cast.school, staff=cast.staff)
    with pytest.raises(TransitionError) as exc:
        cast2.submitted(kind="add_occupation")
    assert any("已在本机构的备案目录中" in m for m in exc.value.messages)


def test_directory_suspend_restore_remove_and_renew(cast):
    cast.filed()
    inst = Institution.objects.get(school=cast.school)
    with pytest.raises(PermissionDenied):
        services.institution_suspend(institution=inst, actor=cast.dept, reason="x")
    with pytest.raises(ValidationError):
        services.institution_suspend(institution=inst, actor=cast.centre, reason="")
    inst = services.institution_suspend(institution=inst, actor=cast.centre, reason="质量督导发现考务问题，限期整改")
    assert inst.status == InstitutionStatus.SUSPENDED
    assert not selectors.plannable_occupations(institution=inst, on=inst.confirmed_on).exists()
    with pytest.raises(TransitionError):
        services.institution_suspend(institution=inst, actor=cast.centre, reason="再次")
    inst = services.institution_restore(institution=inst, actor=cast.centre, reason="整改完成")
    assert selectors.plannable_occupations(institution=inst, on=inst.confirmed_on).exists()
    inst = services.institution_remove(institution=inst, actor=cast.centre, reason="违规颁发证书")
    assert inst.status == InstitutionStatus.REMOVED and inst.status_reason == "违规颁发证书"
    with pytest.raises(TransitionError):
        services.institution_renew(institution=inst, actor=cast.centre, reason="延续")
    assert inst.history.latest().history_user == cast.centre


def test_a_page_of_findings_is_saved_whole_or_not_at_all(cast):
    app = cast.with_panel()
    rows = [(1, ["document_review"], True, "符合"), (2, ["site_inspection"], True, "  ")]
    with pytest.raises(ValidationError):
        services.findings_record(application=app, actor=cast.experts[1], conditions=rows)
    assert not Finding.objects.filter(panel=app.panel).exists()
    assert services.findings_record(application=app, actor=cast.experts[1], conditions=rows[:1]) == 1


def test_rule_site_sequence_is_allotted_by_the_hr_authority_never_counted_from_one(cast, settings):
    """Annex §3.3 / coding rule: the centre enters the sequence the HR authority allotted; the portal suggests."""
    settings.PORTAL_SITE_SEQUENCE_NEXT = ""
    assert services.next_site_sequence() == ""  # nothing configured, nothing in use: no guess such as 000001
    settings.PORTAL_SITE_SEQUENCE_NEXT = "310050"
    assert services.next_site_sequence() == "310050"
    app = cast.consented()
    with pytest.raises(ValidationError, match="机构（站点）序号"):
        services.filing_confirm(
            application=app, actor=cast.centre, ministry_report_ref="x", ministry_reported_on=dt.date(2026, 11, 20)
        )
    app.refresh_from_db()
    assert app.status == S.CONSENTED
    services.filing_confirm(
        application=app,
        actor=cast.centre,
        ministry_report_ref="人社鉴备〔2026〕12号",
        ministry_reported_on=dt.date(2026, 11, 20),
        site_sequence="310077",
    )
    assert services.next_site_sequence() == "310078"  # above every sequence in use
    other = Cast(factories.school())
    other_app = other.consented()
    with pytest.raises(ValidationError, match="已被使用"):  # unique across all Shanghai institutions
        services.filing_confirm(
            application=other_app,
            actor=other.centre,
            ministry_report_ref="人社鉴备〔2026〕13号",
            ministry_reported_on=dt.date(2026, 11, 20),
            site_sequence="310077",
        )


def test_rule_the_school_declares_its_material_true_on_submit(cast):
    """Annex §3.1 学校对材料的真实性、有效性、合法性负责: recorded with who and when."""
    app = cast.draft()
    with pytest.raises(ValidationError, match="真实性"):
        services.application_submit(application=app, actor=cast.staff)
    app.refresh_from_db()
    assert app.status == S.DRAFT and app.declared_by is None
    services.application_submit(application=app, actor=cast.staff, declared=True)
    app.refresh_from_db()
    assert app.declared_by == cast.staff and app.declared_at == app.submitted_at


def test_rule_the_six_conditions_are_stored_verbatim_from_the_notice(cast):
    """Annex §1.1 items 1–6: the notice's own words, kept with the application."""
    notice = (settings.BASE_DIR.parent / "shared" / "seed" / "notice-2022-102.txt").read_text(encoding="utf-8")
    app = cast.draft()
    answers = list(app.answers.order_by("condition"))
    assert len(answers) == 6
    for answer in answers:
        assert answer.condition_text and answer.condition_text in notice, answer.condition


# --- Technical evaluation as the notice says it (annex §3.2) --------------------------------


def test_rule_technical_evaluation_is_organised_by_the_centre_together_with_the_department(cast):
    """市职鉴中心会同市教委相关职能部门组织技术评估: the centre proposes, the department agrees."""
    app = cast.under_evaluation()
    services.panel_form(application=app, actor=cast.centre, experts=cast.experts, lead=cast.lead)
    with pytest.raises(TransitionError, match="会同确认"):  # no findings before the department agrees
        cast.record_all_findings(app)
    with pytest.raises(PermissionDenied):  # the centre cannot agree to its own proposal
        services.panel_agree(application=app, actor=cast.centre)
    services.panel_agree(application=app, actor=cast.dept, comment="同意")
    panel = type(app.panel).objects.get(application=app)
    assert panel.formed_by == cast.centre and panel.agreed_by == cast.dept and panel.agreed_at is not None
    assert app.events.filter(action="agree_panel", actor=cast.dept).exists()
    with pytest.raises(TransitionError):  # once is enough
        services.panel_agree(application=app, actor=cast.dept)
    cast.record_all_findings(app)
    # Re-forming the panel asks for the department's agreement again.
    services.panel_form(application=app, actor=cast.centre, experts=cast.experts, lead=cast.experts[2])
    panel.refresh_from_db()
    assert panel.agreed_at is None


def test_rule_each_experts_findings_are_kept_and_attributed(cast):
    """Each expert's findings are their own: a second expert's save never overwrites the first's."""
    app = cast.with_panel()
    first, second = cast.experts[1], cast.experts[2]
    services.findings_record(
        application=app, actor=first, conditions=[(4, ["site_inspection"], False, "监控设备未安装")]
    )
    services.findings_record(
        application=app,
        actor=second,
        conditions=[(4, ["document_review", "material_verification"], True, "材料显示已采购监控设备")],
    )
    rows = {f.expert_id: f for f in app.panel.findings.filter(condition=4)}
    assert set(rows) == {first.pk, second.pk}
    assert (rows[first.pk].met, rows[first.pk].methods, rows[first.pk].remarks) == (
        False,
        ["site_inspection"],
        "监控设备未安装",
    )
    assert rows[second.pk].met is True and rows[second.pk].methods == ["document_review", "material_verification"]
    with pytest.raises(ValidationError, match="至少选择一种评估方式"):
        services.findings_record(application=app, actor=first, conditions=[(1, [], True, "符合")])


def test_rule_a_pass_is_refused_while_any_condition_is_judged_not_met(cast):
    app = cast.with_panel()
    cast.record_all_findings(app)
    services.findings_record(
        application=app, actor=cast.experts[2], conditions=[(4, ["site_inspection"], False, "考场未配音视频监控")]
    )
    with pytest.raises(TransitionError) as exc:
        services.panel_conclude(application=app, actor=cast.lead, passed=True, opinion="通过")
    assert any("条件4" in m and "不符合" in m and str(cast.experts[2]) in m for m in exc.value.messages)
    app.refresh_from_db()
    assert app.status == S.UNDER_EVALUATION
    services.panel_conclude(application=app, actor=cast.lead, passed=False, opinion="条件4不符合")
    app.refresh_from_db()
    assert app.status == S.EVALUATION_FAILED


def test_rule_the_panel_judges_each_occupation_and_its_major(cast):
    app = cast.with_panel()
    applied = app.occupations.get()
    services.findings_record(
        application=app,
        actor=cast.experts[1],
        conditions=[(c, ["document_review"], True, "符合") for c in range(1, 7)],
    )
    with pytest.raises(TransitionError) as exc:  # the occupation has not been judged yet
        services.panel_conclude(application=app, actor=cast.lead, passed=True, opinion="通过")
    assert any("是否合理" in m for m in exc.value.messages)
    with pytest.raises(ValidationError, match="写明理由"):
        services.findings_record(
            application=app, actor=cast.experts[2], conditions=[], occupations=[(applied.pk, False, "")]
        )
    services.findings_record(
        application=app, actor=cast.experts[2], conditions=[], occupations=[(applied.pk, False, "专业与工种不对应")]
    )
    with pytest.raises(TransitionError, match="不能签署"):
        services.panel_conclude(application=app, actor=cast.lead, passed=True, opinion="通过")


# --- Renewal and filing again (issue 7 item 9), sites and work plan (item 6) -----------------


def test_rule_renewal_is_the_schools_application_opened_before_expiry(cast, settings):
    """Annex §3.3 valid 3 years: renewal goes through the same review, opened a configurable time before."""
    _app, _receipt = cast.filed()
    inst = Institution.objects.get(school=cast.school)
    settings.PORTAL_RENEWAL_WINDOW_DAYS = 90
    with pytest.raises(TransitionError, match="起可申请延续"):
        services.application_create(school=cast.school, actor=cast.staff, kind="renewal")
    settings.PORTAL_RENEWAL_WINDOW_DAYS = 3 * 366  # the window is open
    old_end = inst.valid_until
    Institution.objects.filter(pk=inst.pk).update(valid_until=old_end - dt.timedelta(days=400))
    renewal, receipt = Cast(cast.school, staff=cast.staff).filed(kind="renewal")
    inst.refresh_from_db()
    assert renewal.kind == "renewal" and renewal.status == S.FILED
    assert inst.valid_until == services.validity_end(inst.confirmed_on) and inst.status == "active"
    assert inst.events.filter(action="renew", actor=renewal.receipt.issued_by).exists()
    assert receipt.number.endswith("002号")


def test_rule_a_school_whose_filing_was_removed_may_file_again_and_keeps_its_codes(cast):
    _app, _receipt = cast.filed()
    inst = Institution.objects.get(school=cast.school)
    code = inst.code
    services.institution_remove(institution=inst, actor=cast.centre, reason="违规发证，移出目录")
    with pytest.raises(TransitionError) as exc:  # not "already filed": the way forward
        services.application_create(school=cast.school, actor=cast.staff, kind="add_occupation")
    assert "重新备案" in exc.value.messages[0]
    again, _receipt2 = Cast(cast.school, staff=cast.staff).filed()
    inst.refresh_from_db()
    assert again.status == S.FILED and inst.status == "active" and inst.code == code
    assert inst.events.filter(action="relist").exists()


def test_rule_a_suspended_institution_is_told_what_to_do():
    cast = Cast(factories.school())
    _app, _receipt = cast.filed()
    inst = Institution.objects.get(school=cast.school)
    services.institution_suspend(institution=inst, actor=cast.centre, reason="整改")
    for kind in ("initial", "add_occupation", "renewal"):
        with pytest.raises(TransitionError, match="整改"):
            services.application_create(school=cast.school, actor=cast.staff, kind=kind)


def test_rule_a_work_plan_and_sites_with_monitored_rooms_are_filed(cast):
    """Annex §1.1 item 4 (考核站点, 音视频监控设备) and §4.2 (按照经备案的相关工作方案)."""
    app = services.application_create(school=cast.school, actor=cast.staff)
    problems = services.submission_problems(app)
    assert any("工作方案" in p for p in problems) and any("考核站点" in p for p in problems)
    site = services.site_add(application=app, actor=cast.staff, name="东校区站点", address="东校区1号楼")
    services.room_add(site=site, actor=cast.staff, name="101", capacity=20, av_monitoring=False)
    problems = services.submission_problems(app)
    assert any("「东校区站点」的考场「101」未配备音视频监控设备" in p for p in problems)
    with pytest.raises(ValidationError, match="PDF"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        services.work_plan_upload(
            application=app, actor=cast.staff, upload=SimpleUploadedFile("plan.docx", b"PK\x03\x04 not a pdf")
        )


def test_sites_are_listed_with_the_institution_at_confirmation(cast):
    app, _receipt = cast.filed()
    inst = Institution.objects.get(school=cast.school)
    site = inst.sites.get()
    assert site.application == app and site.rooms.get().av_monitoring
