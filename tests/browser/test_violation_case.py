"""From a supervisor's report to a revoked certificate, through the real pages (issue 10, "Done when").

An issued batch (its certificates valid) has an external quality supervisor; the supervisor files a
report naming a candidate who had someone else sit the practical exam; the centre opens a case
from that report (the button on the report), decides it with a revoke-certificate sanction; an
anonymous visitor then finds the certificate revoked on the public /verify/ page, with the case's
number in the reason.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from playwright.sync_api import expect

from assessments.services import supervision
from certificates.models import Certificate, CertificateStatus
from oversight.models import CaseSource, CaseStatus, Sanction, ViolationCase
from portal.models import Role
from tests import factories
from tests.browser.test_batch_lifecycle import PASSWORD, log_in, named, path_of, submit_main_form
from tests.certificates.test_records_builders import issued

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
pytestmark.append(pytest.mark.needs("chromium"))

AFTER_ISSUE = dt.datetime(2026, 12, 22, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai, two days after issue


def test_a_supervisors_report_opens_a_case_the_centre_revokes_and_verification_says_revoked(browser_context_factory):
    i = issued(2)
    with time_machine.travel(AFTER_ISSUE, tick=True):
        centre_user = named(i.centre, "陈审核")
        supervisor_user = named(factories.user(Role.QUALITY_SUPERVISOR), "张督导")
        supervision.supervisor_assign(plan=i.plan, actor=centre_user, supervisor=supervisor_user)
        candidate = i.b.candidates[0]
        cert = Certificate.objects.get(candidate=candidate)
        assert cert.status == CertificateStatus.VALID

        # --- The supervisor files the report.
        sup = log_in(browser_context_factory, supervisor_user)
        sup.goto(f"/assessments/{i.plan.pk}/")
        sup.locator("[data-testid=supervision] a", has_text="提交督导报告").first.click()
        sup.wait_for_load_state()
        sup.fill("#id_report", f"经核查，考生{candidate.student.name}的实操考核由他人代考。")
        submit_main_form(sup)

        # --- The centre opens a case from the report.
        centre = log_in(browser_context_factory, centre_user)
        centre.goto(f"/assessments/{i.plan.pk}/")
        centre.locator("[data-testid=case-from-report]").click()
        centre.wait_for_load_state()
        expect(centre.locator("#id_facts")).to_have_value(f"经核查，考生{candidate.student.name}的实操考核由他人代考。")
        centre.locator("input[name=subject_kind][value=candidate]").check()
        centre.fill("#id_candidate", candidate.student.student_number)
        centre.fill("#id_title", "实操考核他人代考")
        submit_main_form(centre, "立案")
        case = ViolationCase.objects.get()
        assert path_of(centre) == f"/oversight/cases/{case.pk}/"
        assert (case.source, case.candidate_id) == (CaseSource.SUPERVISION, candidate.pk)
        expect(centre.locator("[data-testid=case-status]")).to_have_text("调查中")

        # --- The centre decides: revoke the certificate.
        centre.locator("a", has_text="作出处理决定").first.click()
        centre.wait_for_load_state()
        centre.fill("#id_decision", "经查属实，撤销其证书。")
        centre.get_by_label(cert.number, exact=False).check()
        submit_main_form(centre, "作出处理决定并执行")
        expect(centre.locator("[data-testid=case-status]")).to_have_text("已作出处理决定")
        expect(centre.locator("[data-testid=case-sanctions]")).to_contain_text(cert.number)
        centre.goto(f"/oversight/cases/{case.pk}/trace/")
        expect(centre.locator("[data-testid=trace-certificates]")).to_contain_text(cert.number)
        case.refresh_from_db()
        assert case.status == CaseStatus.DECIDED and Sanction.objects.get(case=case).certificate_id == cert.pk

        # --- Anyone verifies it: revoked, with the case's number.
        public = browser_context_factory().new_page()
        public.goto("/verify/")
        form = public.locator("form", has_text="按证书编号查询")
        form.locator("input[name=number-number]").fill(cert.number)
        form.locator("input[name=number-name]").fill(cert.name)
        with public.expect_navigation():
            form.locator("button[type=submit]").click()
        card = public.locator("[data-testid=certificate]")
        expect(card.locator("[data-testid=status]")).to_contain_text("已撤销")
        expect(card).to_contain_text(case.number)


__all__ = ["PASSWORD"]
