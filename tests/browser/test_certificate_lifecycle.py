"""A certificate from issuance to public verification, through the real pages (issue 9, "Done when").

The school issues a batch's certificates (a background job), downloads a PDF and reads it back
with pdftotext; an anonymous visitor then verifies it by the QR link (the token the QR code
encodes: tests/certificates/test_pdf.py checks that the code encodes exactly that address), by
the public form, and by uploading the PDF; an edited copy of the PDF is reported as altered.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from certificates.models import Certificate
from schools.models import Level
from tests.certificates.issuance_builders import give_photos, signing, signing_identity  # noqa: F401
from tests.certificates.test_issuance import accepted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium", "pango", "cjk-font", "poppler-utils"))

PASSWORD = "certificate-pass-2026"
ISSUE_DAY = dt.datetime(2026, 12, 20, 2, 0, tzinfo=dt.UTC)


def log_in(context_factory, user) -> Page:
    page = context_factory().new_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    return page


def test_a_certificate_is_issued_downloaded_and_verified_three_ways(browser_context_factory, signing, tmp_path: Path):  # noqa: F811
    with time_machine.travel(ISSUE_DAY, tick=True):
        b = accepted(2)
        give_photos(b)
        b.staff.set_password(PASSWORD)
        b.staff.save(update_fields=["password"])

        # --- The school issues the batch's certificates and downloads one.
        school = log_in(browser_context_factory, b.staff)
        school.goto(f"/certificates/batches/{b.plan.pk}/")
        school.fill("#id_issued_on", "2026-12-20")
        with school.expect_navigation():
            school.locator("[data-testid=issue-start]").click()
        expect(school.locator("#job-progress")).to_have_attribute("data-status", "succeeded", timeout=60_000)
        school.goto(f"/certificates/batches/{b.plan.pk}/")
        certificate = Certificate.objects.filter(plan=b.plan).order_by("number").first()
        assert Certificate.objects.filter(plan=b.plan).count() == 2
        row = school.locator("tr", has_text=certificate.number)
        with school.expect_download() as download:
            row.get_by_role("link", name="下载").click()
        pdf = tmp_path / "certificate.pdf"
        download.value.save_as(pdf)
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        compact = "".join(text.split())
        assert certificate.number in compact
        assert certificate.name in compact
        assert str(Level(certificate.level).label).split("/")[0] in compact

        # --- Anyone verifies it: by the QR link, by the form, by uploading the file.
        public = browser_context_factory().new_page()
        public.goto(f"/verify/t/{certificate.token}/")
        card = public.locator("[data-testid=certificate]")
        expect(card.locator("[data-testid=status]")).to_have_text("有效")
        expect(card).to_contain_text(certificate.name)
        expect(card).to_contain_text(certificate.masked_id_number)
        expect(card).not_to_contain_text(certificate.id_number)

        public.goto("/verify/")
        form = public.locator("form", has_text="按证书编号查询")
        form.locator("input[name=number-number]").fill(certificate.number)
        form.locator("input[name=number-name]").fill(certificate.name)
        with public.expect_navigation():
            form.locator("button[type=submit]").click()
        expect(public.locator("[data-testid=certificate] [data-testid=status]")).to_have_text("有效")

        public.goto("/verify/pdf/")
        public.set_input_files("input[type=file]", str(pdf))
        with public.expect_navigation():
            public.locator("main form button[type=submit]").click()
        expect(public.locator("[data-testid=pdf-verdict]")).to_contain_text("文件未被改动")

        # An edited copy: one byte of the signed content changed.
        data = bytearray(pdf.read_bytes())
        at = data.index(b"/Producer") if b"/Producer" in data else len(data) // 3
        data[at + 2] ^= 0x01
        edited = tmp_path / "edited.pdf"
        edited.write_bytes(bytes(data))
        public.goto("/verify/pdf/")
        public.set_input_files("input[type=file]", str(edited))
        with public.expect_navigation():
            public.locator("main form button[type=submit]").click()
        expect(public.locator("[data-testid=pdf-verdict]")).to_contain_text("已被改动")
