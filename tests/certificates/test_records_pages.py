"""Certificate pages per role (issue 9 item 10): scoping, filters, Excel export, constant queries,
the request and decision pages, and the demo listing command."""

from __future__ import annotations

import io
from io import BytesIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from certificates.models import Certificate, CertificateStatus, RequestKind, StatusRequest
from certificates.services import records as service
from portal.models import OrganisationKind, Role
from tests import factories
from tests.assessments.test_results_builders import FILED_ON
from tests.certificates.test_records_builders import issued
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db


def _district_user(district_code: str):
    org = factories.organisation(OrganisationKind.DISTRICT_HR, district_code=district_code)
    return factories.user(Role.DISTRICT_HR_OFFICER, organisation=org)


def test_role_scoping_of_the_certificate_list_and_record():
    here = issued(2)
    with time_machine.travel(FILED_ON, tick=False):
        cast = Cast(factories.school(district_code="310104"))
        cast.filed()
    there = issued(1, cast=cast)
    here_district = here.plan.institution.school.organisation.district.code
    assert here_district != "310104"
    url = reverse("certificates:certificate_list")
    mine = [c.number for c in here.certificates]
    theirs = there.certificates[0]
    school_page = client_for(here.staff).get(url).content.decode()
    assert all(n in school_page for n in mine) and theirs.number not in school_page
    district_page = client_for(_district_user(here_district)).get(url).content.decode()
    assert all(n in district_page for n in mine) and theirs.number not in district_page
    centre_page = client_for(here.centre).get(url).content.decode()
    assert all(n in centre_page for n in [*mine, theirs.number])
    detail = reverse("certificates:certificate_detail", args=[theirs.pk])
    assert client_for(here.staff).get(detail).status_code == 404
    assert client_for(_district_user(here_district)).get(detail).status_code == 404
    assert client_for(here.centre).get(detail).status_code == 200
    assert client_for(factories.user(Role.EXPERT)).get(url).status_code == 403


def test_the_list_filters_and_exports_id_numbers_as_text():
    i = issued(2)
    a, b = i.certificates
    service.certificate_revoke(
        certificate=b, actor=i.centre, reason="违规", authority=service.Authority(service.SANCTION)
    )
    client = client_for(i.staff)
    page = client.get(reverse("certificates:certificate_list"), {"status": "revoked"}).content.decode()
    assert b.number in page and a.number not in page
    page = client.get(reverse("certificates:certificate_list"), {"q": a.name}).content.decode()
    assert a.number in page
    response = client.get(reverse("certificates:certificate_export"), {"status": "valid"})
    ws = load_workbook(BytesIO(response.content)).worksheets[0]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [a.number]
    assert rows[0][3] == a.id_number and ws.cell(row=2, column=4).number_format == "@"


def test_the_list_costs_a_constant_number_of_queries():
    i = issued(1)
    client = client_for(i.centre)
    url = reverse("certificates:certificate_list")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    more = issued(4)
    assert Certificate.objects.count() == 5 and more.certificates
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)
    with CaptureQueriesContext(connection) as export:
        client.get(reverse("certificates:certificate_export"))
    assert len(export) <= len(small) + 2


def test_the_school_asks_and_the_centre_approves_through_the_pages():
    i = issued(1)
    cert = i.certificates[0]
    url = reverse("certificates:certificate_request", args=[cert.pk])
    staff = client_for(i.staff)
    response = staff.post(url, {"kind": RequestKind.REVOKE, "reason": " "})
    assert response.status_code == 200 and "请填写申请理由" in response.content.decode()
    response = staff.post(url, {"kind": RequestKind.REVOKE, "reason": "重复发证"})
    req = StatusRequest.objects.get()
    assert response.status_code == 302
    detail = reverse("certificates:request_detail", args=[req.pk])
    assert staff.post(detail, {"action": "approve"}).status_code == 403
    centre = client_for(i.centre)
    assert "待市职鉴中心审核" in centre.get(reverse("certificates:request_list")).content.decode()
    assert centre.post(detail, {"action": "approve", "comment": "同意"}).status_code == 302
    cert.refresh_from_db()
    assert cert.status == CertificateStatus.REVOKED
    page = staff.get(reverse("certificates:certificate_detail", args=[cert.pk])).content.decode()
    assert "重复发证" in page and "已撤销" in page


def test_list_demo_certificates_prints_number_name_and_status():
    i = issued(2)
    a, b = i.certificates
    service.request_approve(
        request=service.request_create(certificate=b, actor=i.staff, kind=RequestKind.CORRECT, reason="x", name="钱七"),
        actor=i.centre,
    )
    out = io.StringIO()
    call_command("list_demo_certificates", stdout=out)
    lines = out.getvalue().splitlines()
    new = Certificate.objects.get(supersedes=b)
    assert sorted(lines) == sorted(
        [f"{a.number}\t{a.name}\tvalid", f"{b.number}\t{b.name}\tsuperseded", f"{new.number}\t钱七\tvalid"]
    )
