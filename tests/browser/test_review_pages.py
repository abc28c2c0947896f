"""The reviewers' pages in Chromium: evidence read in the page under the real Content-Security-Policy,
the panel form's expert profiles, and the occupation form marking the majors for the chosen occupation.

Screenshots go to test-artifacts/ (review-*.png).
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from institutions import services
from portal.models import Occupation, Role
from schools.models import TrainingLevel
from tests import factories
from tests.institutions.builders import Cast, corresponding_major

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium", "pango", "cjk-font"))

PASSWORD = "test-pass-2026"  # tests.factories.user's default


def evidence_pdf(title: str) -> SimpleUploadedFile:
    """A real one-page PDF with Chinese text (WeasyPrint), so the viewer has something to show."""
    from weasyprint import HTML

    html = f"<h1 style='font-family: sans-serif'>{title}</h1><p>学校职业技能等级认定工作佐证材料（浏览器测试）。</p>"
    return SimpleUploadedFile(f"{title}.pdf", HTML(string=html).write_pdf(), content_type="application/pdf")


def evidence_png() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 240), "#e8f0fe")
    ImageDraw.Draw(image).rectangle((20, 20, 460, 220), outline="#1a73e8", width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile("考场照片.png", buffer.getvalue(), content_type="image/png")


def log_in(context_factory, user) -> tuple[Page, list[str]]:
    """A fresh context logged in; the console messages it logs (CSP refusals among them) collected."""
    page = context_factory().new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    return page, console


def test_an_expert_reads_the_evidence_in_the_findings_page(browser_context_factory, artifacts_dir):
    cast = Cast(factories.school(name="浦江智能制造职业技术学院"))
    app = cast.draft()  # complete, as the builders make it; its placeholder PDFs replaced by readable ones
    for answer in app.answers.all():
        for placeholder in answer.evidence.all():
            services.evidence_remove(evidence=placeholder, actor=cast.staff)
        upload = evidence_pdf(f"条件{answer.condition}材料")
        services.evidence_add(application=app, actor=cast.staff, condition=answer.condition, upload=upload)
    photo = services.evidence_add(application=app, actor=cast.staff, condition=4, upload=evidence_png())
    services.application_submit(application=app, actor=cast.staff, declared=True)
    services.application_accept(application=app, actor=cast.dept)
    services.panel_form(application=app, actor=cast.centre, experts=cast.experts, lead=cast.lead)
    services.panel_agree(application=app, actor=cast.dept)

    page, console = log_in(browser_context_factory, cast.experts[1])
    page.goto(f"/institutions/{app.pk}/findings/")
    card = page.locator("[data-testid=finding-condition-1]")
    first = app.answers.get(condition=1).evidence.get()
    frame = card.locator("iframe")
    expect(frame).to_be_hidden()  # a PDF opens (and starts its viewer) when asked for
    card.locator(f"[data-testid=evidence-{first.pk}] summary").click()
    expect(frame).to_be_visible()
    expect(frame).to_have_attribute("src", f"/institutions/evidence/{first.pk}/view/")
    content = frame.element_handle().content_frame()
    content.wait_for_load_state()
    assert content.url.endswith(f"/institutions/evidence/{first.pk}/view/")
    image = page.locator(f"[data-testid=evidence-{photo.pk}] img")
    expect(image).to_be_visible()  # images are shown open
    page.wait_for_function("img => img.complete && img.naturalWidth === 480", arg=image.element_handle())
    # Chromium's PDF viewer (an extension frame inside ours) loaded; painting it takes a moment in headless.
    for _ in range(50):
        if any(f.url.startswith("chrome-extension://") for f in page.frames):
            break
        page.wait_for_timeout(100)
    assert any(f.url.startswith("chrome-extension://") for f in page.frames), [f.url for f in page.frames]
    page.wait_for_timeout(3000)
    refused = [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    assert refused == [], refused
    card.screenshot(path=str(artifacts_dir / "review-findings-condition-1.png"))
    page.screenshot(path=str(artifacts_dir / "review-findings.png"), full_page=True)


def test_the_centre_sees_each_experts_load_and_conflicts_on_the_panel_form(browser_context_factory, artifacts_dir):
    school = factories.school(name="申江现代服务职业学院")
    earlier = Cast(school)
    first = earlier.with_panel()
    services.panel_declare_conflict(application=first, actor=earlier.experts[2], note="曾在该校兼职授课")
    earlier.record_all_findings(first, satisfied=False)
    services.panel_conclude(application=first, actor=earlier.lead, passed=False, opinion="条件不具备")
    busy = Cast(factories.school())
    busy.experts = [earlier.experts[0], *busy.experts[1:]]
    busy.with_panel()

    cast = Cast(school)
    cast.centre = factories.user(Role.CENTRE_REVIEWER)
    app = cast.under_evaluation()
    page, _console = log_in(browser_context_factory, cast.centre)
    page.goto(f"/institutions/{app.pk}/panel/")
    expect(page.locator("[data-testid=conflict-warning]")).to_contain_text(str(earlier.experts[2]))
    row = page.locator(f"[data-testid=expert-{earlier.experts[0].pk}]")
    expect(row.locator("[data-testid=expert-load]")).to_have_text("1 件")
    expect(page.locator(f"[data-testid=expert-{earlier.experts[2].pk}]")).to_contain_text("曾在该校兼职授课")
    page.screenshot(path=str(artifacts_dir / "review-panel-form.png"), full_page=True)


def test_the_occupation_form_marks_the_majors_for_the_chosen_occupation(browser_context_factory, artifacts_dir):
    cast = Cast(factories.school(name="浦江智能制造职业技术学院"))
    welder = Occupation.objects.get(code="6-18-02-04", work_type="")
    matching = corresponding_major(cast.school, welder)
    secondary = factories.major(cast.school, code="660104", name="焊接技术应用", level=TrainingLevel.SECONDARY)
    unrelated = factories.major(cast.school, code="530302", name="大数据与会计")
    app = services.application_create(school=cast.school, actor=cast.staff)

    page, console = log_in(browser_context_factory, cast.staff)
    page.goto(f"/institutions/{app.pk}/occupations/add/")
    page.locator(f"[data-testid=major-{unrelated.pk}] input").check()  # ticked before choosing: kept
    page.select_option("#id_occupation", label="6-18-02-04 焊工")
    expect(page.locator(f"[data-testid=major-{matching.pk}] [data-corresponds=yes]")).to_be_visible()
    expect(page.locator(f"[data-testid=major-{unrelated.pk}] [data-corresponds=no]")).to_be_visible()
    expect(page.locator(f"[data-testid=major-{unrelated.pk}] input")).to_be_checked()
    # A 中职 major alone: 三级 is no longer offered (static/js/portal.js), 四级 is chosen instead.
    page.locator(f"[data-testid=major-{unrelated.pk}] input").uncheck()
    page.select_option("#id_highest_level", value="3")
    page.locator(f"[data-testid=major-{secondary.pk}] input").check()
    expect(page.locator("#id_highest_level option[value='3']")).to_be_disabled()
    expect(page.locator("#id_highest_level")).to_have_value("4")
    page.locator(f"[data-testid=major-{matching.pk}] input").check()  # a 高职 major too: 三级 again
    expect(page.locator("#id_highest_level option[value='3']")).to_be_enabled()
    assert [m for m in console if "Content Security Policy" in m] == []
    page.screenshot(path=str(artifacts_dir / "review-occupation-form.png"), full_page=True)
