"""One filing application from draft to the public directory, through the real pages.

Every step is taken by the user whose step it is, logged in through the login form in a fresh
browser context: the school drafts and submits, the commission's department accepts, the centre
forms the panel, an expert records the findings and the lead signs, the municipal HR bureau and
the education commission consent, the centre confirms and issues the receipt, the school
downloads it, and an anonymous visitor finds the school in the public directory.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from institutions import services
from institutions.models import (
    ApplicationStatus,
    Condition,
    EvaluationMethod,
    FilingApplication,
    FilingReceipt,
    Institution,
)
from institutions.services import TRANSITIONS
from portal.models import Occupation, Role
from schools.models import SchoolType, TrainingLevel
from tests import factories
from tests.institutions.builders import pdf

# Same database handling as test_demo_logins.py (see conftest.py's docstring).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium"))

PASSWORD = "lifecycle-pass-2026"
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WELDER_LABEL = "6-18-02-04 焊工"
LEVEL_3 = "三级/高级工"
S = ApplicationStatus


def path_of(page: Page) -> str:
    return urlparse(page.url).path


def log_in(context_factory, user) -> Page:
    """A fresh browser context, logged in through the login form; lands on the home page."""
    context: BrowserContext = context_factory()
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert path_of(page) == "/", f"{user.username}: landed on {page.url}"
    expect(page.locator("h1")).to_contain_text("工作台")
    return page


def open_application(page: Page, app: FilingApplication) -> None:
    """From the application list, as a user finds it: the link with the application's number."""
    page.goto("/institutions/")
    link = page.locator(f"main table a[href='/institutions/{app.pk}/']").first
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(f"**/institutions/{app.pk}/")


def expect_status(page: Page, status: S) -> None:
    badge = page.locator("main [data-status]").first
    expect(badge).to_have_attribute("data-status", status.value)
    expect(badge).to_have_text(str(status.label))


def label(action: str) -> str:
    """The step's button label, as the pages show it (from the one table of transitions)."""
    return str(TRANSITIONS[action].label)


def click_action(page: Page, action: str) -> None:
    """The step's button on the detail page exists, reads as it should, and is pressed."""
    button = page.locator(f"[data-testid=actions] [data-action={action}]")
    expect(button).to_be_visible()
    expect(button).to_have_text(label(action))
    href = button.get_attribute("href")
    button.click()
    page.wait_for_url(f"**{href}")


def expect_only_actions(page: Page, *actions: str) -> None:
    buttons = page.locator("[data-testid=actions] [data-action]")
    expect(buttons).to_have_count(len(actions))
    for action in actions:
        expect(page.locator(f"[data-testid=actions] [data-action={action}]")).to_be_visible()


def confirm_step(page: Page, app: FilingApplication, action: str) -> None:
    """The confirmation page of a step (application_act): press 确认…, back on the detail page."""
    button = page.locator("main form button[type=submit]")
    expect(button).to_have_text(f"确认{label(action)}")
    expect(button).to_be_enabled()
    if action == "submit":  # annex §3.1: the school answers for its material
        page.get_by_label("本校对所提交申请材料的真实性、有效性、合法性负责。").check()
    button.click()
    page.wait_for_url(f"**/institutions/{app.pk}/")
    expect(page.locator("main .alert-success")).to_contain_text(f"已办理：{label(action)}。")


def named(user, full_name: str):
    user.full_name = full_name
    user.save(update_fields=["full_name"])
    return user


@pytest.fixture
def evidence_pdf(tmp_path) -> Path:
    path = tmp_path / "佐证材料.pdf"
    path.write_bytes(MINIMAL_PDF)
    return path


@pytest.mark.needs("pango", "cjk-font", "poppler-utils")  # the receipt, read back
def test_application_goes_from_draft_to_the_public_directory(
    browser_context_factory, artifacts_dir, evidence_pdf, tmp_path
):
    school = factories.school(name="浦江智能制造职业技术学院")
    major = factories.major(school, code="460110", name="智能焊接技术", level=TrainingLevel.HIGHER)
    staff = named(factories.user(Role.SCHOOL_STAFF, organisation=school.organisation, password=PASSWORD), "林晓雯")
    dept = named(factories.user(Role.COMMISSION_DEPT_OFFICER, password=PASSWORD), "周立群")
    centre = named(factories.user(Role.CENTRE_REVIEWER, password=PASSWORD), "陈思远")
    experts = [named(factories.user(Role.EXPERT, password=PASSWORD), name) for name in ("高志明", "韩雪松", "马丽娟")]
    hr = named(factories.user(Role.MUNICIPAL_HR_OFFICER, password=PASSWORD), "吴海峰")
    commission = named(factories.user(Role.COMMISSION_OFFICER, password=PASSWORD), "郑雅琴")
    lead, recorder = experts[0], experts[1]

    # --- 1. School staff: a new 首次备案 application, six conditions, one occupation, submit.
    page = log_in(browser_context_factory, staff)
    page.goto("/institutions/")
    expect(page.locator("main")).to_contain_text(school.name)
    page.get_by_label("首次备案", exact=True).check()
    create = page.locator("[data-testid=create-application]")
    expect(create).to_have_text("新建备案申请")
    create.click()
    page.wait_for_url("**/institutions/*/")
    app = FilingApplication.objects.get(school=school)
    assert path_of(page) == f"/institutions/{app.pk}/"
    expect_status(page, S.DRAFT)
    expect(page.locator("h1")).to_contain_text("首次备案")
    expect(page.locator("[data-testid=checklist]")).to_contain_text("条件1：请填写情况说明。")

    for condition in Condition:
        n = condition.value
        card = page.locator(f"[data-testid=condition-{n}]")
        expect(card).to_contain_text(str(condition.label))
        card.get_by_role("link", name="填写与上传").click()
        page.wait_for_url(f"**/institutions/{app.pk}/conditions/{n}/")
        expect(page.locator("h1")).to_have_text(f"条件{n}")
        # The statement and the file go in one form and are saved together.
        page.fill("#id_statement", f"条件{n}：本校对照该项条件的实际情况说明（浏览器测试）。")
        page.set_input_files("#id_files", str(evidence_pdf))
        page.get_by_role("button", name="保存并返回申请").click()
        page.wait_for_url(f"**/institutions/{app.pk}/#conditions")
        expect(page.locator("main .alert-success").first).to_contain_text(f"条件{n}的情况说明已保存。")
        expect(page.locator("main .alert-success").nth(1)).to_contain_text("已上传1份佐证材料。")
        expect(card).to_contain_text("本校对照该项条件的实际情况说明")
        expect(card).to_contain_text(evidence_pdf.name)

    # The work plan and an assessment site with a monitored exam room (annex §1.1 item 4, §4.2).
    page.get_by_role("link", name="上传方案、填报站点").click()
    page.wait_for_url(f"**/institutions/{app.pk}/plan-and-sites/")
    page.set_input_files("#id_file", str(evidence_pdf))
    page.get_by_role("button", name="上传工作方案").click()
    expect(page.locator("main .alert-success")).to_contain_text("工作方案已上传。")
    page.fill("#id_name", "实训楼考核站点")
    page.fill("#id_address", "校本部实训楼3层")
    page.get_by_role("button", name="添加站点").click()
    expect(page.locator("main .alert-success")).to_contain_text("考核站点已添加")
    page.get_by_label("考场名称").fill("301")
    page.get_by_label("容纳人数").fill("30")
    page.get_by_label("配备音视频监控").check()
    page.get_by_role("button", name="添加考场").click()
    expect(page.locator("main .alert-success")).to_contain_text("考场已添加：301")
    page.get_by_role("link", name="返回申请").click()
    expect(page.locator("[data-testid=detail-site]")).to_contain_text("实训楼考核站点")

    page.get_by_role("link", name="添加职业（工种）").click()
    page.wait_for_url(f"**/institutions/{app.pk}/occupations/add/")
    page.select_option("#id_occupation", label=WELDER_LABEL)
    page.select_option("#id_highest_level", label=LEVEL_3)
    page.get_by_label("国家职业技能标准", exact=True).check()
    page.get_by_label(f"{major.code} {major.name}", exact=False).check()
    page.get_by_role("button", name="添加", exact=True).click()
    page.wait_for_url(f"**/institutions/{app.pk}/")
    expect(page.locator("main .alert-success")).to_contain_text("已添加申报职业（工种）。")
    occupations = page.locator("#occupations table")
    expect(occupations).to_contain_text("6-18-02-04")
    expect(occupations).to_contain_text("焊工")
    expect(occupations).to_contain_text(f"五级/初级工 — {LEVEL_3}")
    expect(occupations).to_contain_text("GZB 6-18-02-04 焊工国家职业技能标准")
    expect(occupations).to_contain_text(f"{major.code} {major.name}")
    expect(page.locator("[data-testid=checklist]")).to_contain_text("材料齐全，符合提交条件，可以提交。")
    page.screenshot(path=str(artifacts_dir / "lifecycle-1-draft-complete.png"), full_page=True)

    click_action(page, "submit")
    confirm_step(page, app, "submit")
    expect_status(page, S.SUBMITTED)
    expect(page.locator("[data-testid=actions] [data-action=submit]")).to_have_count(0)
    page.context.close()

    # --- 2. Commission's department: accept.
    page = log_in(browser_context_factory, dept)
    open_application(page, app)
    expect_status(page, S.SUBMITTED)
    expect_only_actions(page, "return", "accept")
    click_action(page, "accept")
    page.fill("#id_comment", "材料齐全，予以受理。")
    confirm_step(page, app, "accept")
    expect_status(page, S.UNDER_EVALUATION)
    expect(page.locator("#evaluation")).to_contain_text("已受理，待市职鉴中心组建评估专家组。")
    page.context.close()

    # --- 3. Centre: form the panel of three, the first expert leads.
    page = log_in(browser_context_factory, centre)
    open_application(page, app)
    expect_status(page, S.UNDER_EVALUATION)
    click_action(page, "form_panel")
    expect(page.locator("h1")).to_contain_text("评估专家组")
    for expert in experts:
        page.locator(f"input[name=experts][value='{expert.pk}']").check()
    page.select_option("#id_lead", value=str(lead.pk))
    page.get_by_role("button", name="组建专家组").click()
    page.wait_for_url(f"**/institutions/{app.pk}/")
    expect(page.locator("main .alert-success")).to_contain_text("待市教委相关职能部门会同确认")
    members = page.locator("[data-testid=panel-members]")
    for expert in experts:
        expect(members).to_contain_text(expert.full_name)
    expect(members).to_contain_text(f"{lead.full_name} · 组长")
    expect(page.locator("[data-testid=panel-agreement]")).to_contain_text("待市教委相关职能部门会同确认")
    page.context.close()

    # --- 3b. The commission's department agrees to the panel (市职鉴中心会同市教委相关职能部门).
    page = log_in(browser_context_factory, dept)
    open_application(page, app)
    click_action(page, "agree_panel")
    page.fill("#id_comment", "同意专家组组成。")
    confirm_step(page, app, "agree_panel")
    expect(page.locator("[data-testid=panel-agreement]")).to_contain_text(f"{dept.full_name} 于")
    page.context.close()

    # --- 4. An expert records their own findings: methods used, met or not, remarks; the occupation.
    page = log_in(browser_context_factory, recorder)
    open_application(page, app)
    expect_status(page, S.UNDER_EVALUATION)
    expect(page.locator("[data-testid=actions] [data-action=conclude]")).to_have_count(0)  # not the lead
    click_action(page, "record_findings")
    expect(page.locator("h1")).to_have_text(label("record_findings"))
    expect(page.locator("input[name$=_met][value=yes]")).to_have_count(6)
    for condition in Condition:
        n = condition.value
        page.check(f"input[name=c{n}_methods][value={EvaluationMethod.DOCUMENT_REVIEW}]")
        page.check(f"input[name=c{n}_methods][value={EvaluationMethod.SITE_INSPECTION}]")
        page.check(f"input[name=c{n}_met][value=yes]")
        page.fill(f"textarea[name=c{n}_remarks]", f"条件{n}经文件审核和现场考察，符合要求。")
    page.check("input[name$=_sound][value=yes]")
    page.get_by_role("button", name="保存我的评估发现").click()
    page.wait_for_url(f"**/institutions/{app.pk}/")
    expect(page.locator("main .alert-success")).to_contain_text("6项条件，1个职业（工种）")
    grid = page.locator("[data-testid=findings-grid]")
    expect(grid.locator(".badge.text-bg-success")).to_have_count(7)
    expect(grid).to_contain_text(recorder.full_name)
    expect(grid).not_to_contain_text("尚无评估发现")
    page.context.close()

    page = log_in(browser_context_factory, lead)
    open_application(page, app)
    click_action(page, "conclude")
    expect(page.locator("h1")).to_have_text(label("conclude"))
    expect(page.locator("main .alert-warning")).to_have_count(0)  # nothing missing
    expect(page.locator("[data-testid=findings-summary] .badge.text-bg-success")).to_have_count(7)
    page.get_by_label("通过", exact=True).check()
    page.fill("#id_opinion", "该校具备职业技能等级评价机构条件，同意通过技术评估。")
    page.get_by_role("button", name="签署", exact=True).click()
    page.wait_for_url(f"**/institutions/{app.pk}/")
    expect(page.locator("main .alert-success")).to_contain_text("评估结论已签署。")
    expect_status(page, S.AWAITING_CONSENT)
    conclusion = page.locator("[data-testid=conclusion]")
    expect(conclusion).to_contain_text("通过")
    expect(conclusion).to_contain_text("同意通过技术评估")
    expect(conclusion).to_contain_text(f"组长签署：{lead.full_name}")
    page.screenshot(path=str(artifacts_dir / "lifecycle-4-concluded.png"), full_page=True)
    page.context.close()

    # --- 5. Municipal HR bureau, then the education commission, consent.
    for officer, body, after in (
        (hr, "市人力资源和社会保障局", S.AWAITING_CONSENT),
        (commission, "市教育委员会", S.CONSENTED),
    ):
        page = log_in(browser_context_factory, officer)
        open_application(page, app)
        expect_status(page, S.AWAITING_CONSENT)
        click_action(page, "consent")
        expect(page.locator("main")).to_contain_text(f"审批部门：{body}")
        page.get_by_label("同意备案", exact=True).check()
        page.fill("#id_comment", "同意备案。")
        confirm_step(page, app, "consent")
        expect_status(page, after)
        consent_row = page.locator("[data-testid=consents] tr", has_text=body)
        expect(consent_row).to_contain_text("同意")
        expect(consent_row).to_contain_text(officer.full_name)
        expect(page.locator("[data-testid=actions] [data-action=consent]")).to_have_count(0)
        page.context.close()

    # --- 6. Centre: report to the ministry, confirm, issue the receipt.
    page = log_in(browser_context_factory, centre)
    open_application(page, app)
    expect_status(page, S.CONSENTED)
    click_action(page, "confirm")
    expect(page.locator("h1")).to_have_text(label("confirm"))
    expect(page.locator("#id_category_letter")).to_have_value("S")
    expect(page.locator("#id_ministry_code")).to_have_value("0000")
    # The HR authority allots the site sequence; with none configured or in use nothing is guessed.
    expect(page.locator("#id_site_sequence")).to_have_value("")
    page.fill("#id_site_sequence", "310001")
    expect(page.locator("#id_ministry_reported_on")).not_to_have_value("")
    page.fill("#id_ministry_report_ref", "人社鉴备〔2026〕12号")
    page.get_by_role("button", name="确认备案并出具回执").click()
    page.wait_for_url(f"**/institutions/{app.pk}/")
    receipt = FilingReceipt.objects.get(application=app)
    institution = Institution.objects.get(school=school)
    expect(page.locator("main .alert-success")).to_contain_text(f"备案回执 {receipt.number} 已出具")
    expect_status(page, S.FILED)
    expect(page.locator("#basic")).to_contain_text(institution.code)
    expect(page.locator("#confirmation")).to_contain_text("人社鉴备〔2026〕12号")
    page.context.close()

    # --- 7. School staff downloads the receipt; it names the school and the number, in Chinese.
    page = log_in(browser_context_factory, staff)
    open_application(page, app)
    expect_status(page, S.FILED)
    link = page.locator("[data-testid=receipt-link]")
    expect(link).to_contain_text(receipt.number)
    shown_number = link.inner_text().removesuffix("（PDF）").strip()
    assert shown_number == receipt.number
    page.screenshot(path=str(artifacts_dir / "lifecycle-7-filed-school.png"), full_page=True)
    href = link.get_attribute("href")
    assert href == f"/institutions/{app.pk}/receipt.pdf"
    response = page.context.request.get(href)
    assert response.ok, response.status
    assert response.headers["content-type"] == "application/pdf"
    pdf_bytes = response.body()
    assert pdf_bytes.startswith(b"%PDF")
    pdf_path = tmp_path / "receipt.pdf"
    pdf_path.write_bytes(pdf_bytes)
    (artifacts_dir / "lifecycle-receipt.pdf").write_bytes(pdf_bytes)
    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], check=True, capture_output=True).stdout
    text = text.decode("utf-8")
    assert "备案回执" in text
    assert school.name in text
    assert shown_number in text
    assert "焊工" in text
    first_page = ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*first_page, str(pdf_path), str(artifacts_dir / "lifecycle-receipt-p1")], check=True)
    assert (artifacts_dir / "lifecycle-receipt-p1.png").stat().st_size > 0
    page.context.close()

    # --- 8. An anonymous visitor finds the school in the directory by searching 焊工.
    page = browser_context_factory().new_page()
    page.goto("/directory/")
    expect(page.locator("h1")).to_have_text("职业技能等级评价机构目录")
    page.fill("#id_occupation", "焊工")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**/directory/?*")
    expect(page.locator("main")).to_contain_text("共 1 家评价机构")
    entry = page.locator("main article", has_text=school.name)
    expect(entry).to_contain_text("焊工")
    expect(entry).to_contain_text(LEVEL_3)
    entry.get_by_role("link", name=school.name).click()
    page.wait_for_url(f"**/directory/{institution.pk}/")
    expect(page.locator("h1")).to_have_text(school.name)
    valid_until = institution.valid_until.isoformat()
    assert institution.valid_until == services.validity_end(institution.confirmed_on)
    expect(page.locator("main dl")).to_contain_text(valid_until)
    expect(page.locator("main dl")).to_contain_text(institution.code)
    row = page.locator("main table tbody tr", has_text="6-18-02-04")
    expect(row).to_contain_text("焊工")
    expect(row).to_contain_text(f"五级/初级工 — {LEVEL_3}")
    expect(row).to_contain_text("GZB 6-18-02-04 焊工国家职业技能标准")
    expect(row).to_contain_text(valid_until)
    page.screenshot(path=str(artifacts_dir / "lifecycle-8-directory-detail.png"), full_page=True)


def test_submit_refused_when_level_exceeds_the_school_types_cap(browser_context_factory, artifacts_dir):
    """A secondary school (through-programme, capped at 四级) asking for 三级 cannot submit."""
    school = factories.school(school_type=SchoolType.SECONDARY, through=True, name="申江贯通培养中等职业学校")
    welder = Occupation.objects.get(code="6-18-02-04", work_type="")
    major = factories.major(school, code="660104", name="焊接技术应用", level=TrainingLevel.SECONDARY, through=True)
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation, password=PASSWORD)
    # The six conditions are not what this test is about: filled through the services.
    app = services.application_create(school=school, actor=staff)
    for condition in Condition.values:
        services.condition_answer_save(application=app, actor=staff, condition=condition, statement="情况说明")
        services.evidence_add(application=app, actor=staff, condition=condition, upload=pdf())
    services.work_plan_upload(application=app, actor=staff, upload=pdf("工作方案.pdf"))
    site = services.site_add(application=app, actor=staff, name="实训楼站点", address="实训楼")
    services.room_add(site=site, actor=staff, name="101", capacity=20, av_monitoring=True)

    page = log_in(browser_context_factory, staff)
    open_application(page, app)
    expect(page.locator("#basic")).to_contain_text("中等职业学校（可评价至四级/中级工）")
    # The occupation form offers this school no level above its cap (item 17) …
    page.get_by_role("link", name="添加职业（工种）").click()
    page.select_option("#id_occupation", label=WELDER_LABEL)
    expect(page.locator("#id_highest_level option")).to_have_count(2)
    expect(page.locator(f"#id_highest_level option:has-text('{LEVEL_3}')")).to_have_count(0)
    # … so the row is written past the form, as an older draft may hold it: the submit check stays the authority.
    services.occupation_add(
        application=app, actor=staff, occupation=welder, highest_level=3, basis="national_standard", majors=[major]
    )
    open_application(page, app)

    rule = f"「{WELDER_LABEL}」最高等级{LEVEL_3}超出中等职业学校可评价的最高等级（四级/中级工）。"
    expect(page.locator("[data-testid=checklist]")).to_contain_text(rule)
    click_action(page, "submit")
    expect(page.locator("main .alert-warning")).to_contain_text("提交前检查未通过")
    expect(page.locator("main .alert-warning")).to_contain_text(rule)
    button = page.locator("main form button[type=submit]")
    expect(button).to_be_disabled()
    page.screenshot(path=str(artifacts_dir / "lifecycle-submit-refused.png"), full_page=True)

    # Past the disabled button (declaration ticked), the server refuses too (409) with the same rule.
    page.get_by_label("本校对所提交申请材料的真实性、有效性、合法性负责。").check()
    with page.expect_navigation() as navigation:
        page.evaluate("document.querySelector('main form').submit()")
    assert navigation.value.status == 409
    expect(page.locator("[data-testid=refusal]")).to_contain_text(rule)
    expect(page.locator("main")).to_contain_text("申请当前状态：草稿")
    app.refresh_from_db()
    assert app.status == S.DRAFT
    assert app.round == 0
