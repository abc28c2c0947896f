"""A school clerk's path through the pages (issue 7, "Done when"): the condition page keeps both the
typed statement and the uploaded file; students are imported from the downloaded template filled
with 18-digit ID numbers; an ID number that Excel stored as a number gets a message saying so.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from institutions import services
from portal.models import Role
from portal.validators import id_number_check_char
from schools.models import Student
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium"))

PASSWORD = "clerk-pass-2026"
MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def id_number(n: int) -> str:
    first17 = f"31011520080517{n:03d}"
    return first17 + id_number_check_char(first17)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


@pytest.fixture
def clerk():
    school = factories.school()
    staff = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation, password=PASSWORD)
    major = factories.major(school, code="460104", name="机械制造及自动化")
    return school, staff, major


def test_a_typed_statement_and_an_uploaded_file_are_both_kept(page: Page, clerk, tmp_path: Path):
    school, staff, _major = clerk
    app = services.application_create(school=school, actor=staff)
    evidence = tmp_path / "财务制度.pdf"
    evidence.write_bytes(MINIMAL_PDF)
    not_a_pdf = tmp_path / "扫描件.pdf"
    not_a_pdf.write_text("这不是PDF")
    log_in(page, staff.username)
    page.goto(f"/institutions/{app.pk}/conditions/2/")

    # A refused file: the page comes back with the text as typed.
    page.fill("#id_statement", "本校财务管理制度健全，近三年无违规记录。")
    page.set_input_files("#id_files", str(not_a_pdf))
    page.get_by_role("button", name="保存说明和材料").click()
    expect(page.locator("main")).to_contain_text("文件“扫描件.pdf”不是 PDF、JPEG 或 PNG")
    expect(page.locator("#id_statement")).to_have_value("本校财务管理制度健全，近三年无违规记录。")

    # Typed text and a good file in one go: both are there afterwards, and after a reload.
    page.fill("#id_statement", "本校财务管理制度健全，近三年无违规记录，办学稳定。")
    page.set_input_files("#id_files", str(evidence))
    page.get_by_role("button", name="保存说明和材料").click()
    page.wait_for_url(f"**/institutions/{app.pk}/conditions/2/")
    expect(page.locator("main .alert-success").first).to_contain_text("条件2的情况说明已保存。")
    page.reload()
    expect(page.locator("#id_statement")).to_have_value("本校财务管理制度健全，近三年无违规记录，办学稳定。")
    expect(page.locator("[data-testid=evidence-list]")).to_contain_text("财务制度.pdf")
    answer = app.answers.get(condition=2)
    assert answer.statement == "本校财务管理制度健全，近三年无违规记录，办学稳定。"
    assert list(answer.evidence.values_list("original_name", flat=True)) == ["财务制度.pdf"]


def _download_template(page: Page, school_pk: int) -> bytes:
    page.goto(f"/schools/{school_pk}/students/import/")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 Excel 模板").click()
    return Path(download.value.path()).read_bytes()


def _filled(template: bytes, rows: list[list]) -> bytes:
    wb = load_workbook(BytesIO(template))
    ws = wb.worksheets[0]
    for row in rows:
        ws.append(row)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(page: Page, school_pk: int, data: bytes, path: Path) -> None:
    path.write_bytes(data)
    page.goto(f"/schools/{school_pk}/students/import/")
    page.set_input_files("#id_file", str(path))
    page.get_by_role("button", name="上传并导入").click()
    page.wait_for_url("**/jobs/*/")


def test_students_import_from_the_downloaded_template_and_a_number_id_is_named(page: Page, clerk, tmp_path: Path):
    school, staff, major = clerk
    log_in(page, staff.username)
    template = _download_template(page, school.pk)

    # The clerk types (or pastes) 18-digit numbers into the text-formatted column: kept as typed.
    rows = [
        [f"2024{n:03d}", f"学生{n}", "居民身份证", id_number(n), major.code, 2024, "2027-06-30", ""] for n in (1, 2, 3)
    ]
    _upload(page, school.pk, _filled(template, rows), tmp_path / "学籍.xlsx")
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "succeeded")
    expect(page.locator("main")).to_contain_text("导入成功")
    assert sorted(Student.objects.filter(school=school).values_list("id_number", flat=True)) == [
        id_number(n) for n in range(1, 4)
    ]

    # A column Excel turned into numbers: the message says so, with the row, the column and the fix.
    as_number = float(id_number(4)[:15] + "000")  # what Excel keeps: 15 significant digits
    rows = [["2024004", "学生4", "居民身份证", as_number, major.code, 2024, "2027-06-30", ""]]
    _upload(page, school.pk, _filled(template, rows), tmp_path / "学籍-数字.xlsx")
    expect(page.locator("#job-progress")).to_have_attribute("data-status", "failed")
    errors = page.locator("[data-testid=job-errors]")
    expect(errors).to_contain_text("第2行「证件号码」：该号码被 Excel 存成了数字（显示为 3.1012E+17）")
    expect(errors).to_contain_text("请把这一列的单元格格式设为“文本”后重新输入号码")
    expect(errors).not_to_contain_text("校验")
    assert Student.objects.filter(school=school).count() == 3
