"""Reporting certificates (issue 9 item 9): a batch reported by the school, received by the centre;
the national export's layout, marks and re-export; the unreported list."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from certificates.models import Certificate, CertificateReport, NationalExport, ReportStatus
from certificates.services import records, reporting
from institutions.services.workflow import SANCTION
from portal.workflow import Authority, TransitionError
from tests.certificates.test_records_builders import ISSUED_ON, issued
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_school_reports_a_batch_and_the_centre_receives_it():
    i = issued(2)
    with pytest.raises(PermissionDenied):
        reporting.report_submit(plan=i.plan, actor=i.centre)
    report = reporting.report_submit(plan=i.plan, actor=i.staff)
    assert report.status == ReportStatus.SUBMITTED and report.submitted_by == i.staff
    assert set(report.certificates.all()) == set(i.certificates)
    with pytest.raises(ValidationError, match="没有尚未报送的证书"):
        reporting.report_submit(plan=i.plan, actor=i.staff)
    with pytest.raises(PermissionDenied):
        reporting.report_receive(report=report, actor=i.staff)
    report = reporting.report_receive(report=report, actor=i.centre)
    assert (report.status, report.received_by) == (ReportStatus.RECEIVED, i.centre)
    assert report.received_at is not None
    with pytest.raises(TransitionError):
        reporting.report_receive(report=report, actor=i.centre)


def _workbook(export: NationalExport):
    with export.file.open("rb") as f:
        return load_workbook(BytesIO(f.read()))


def test_the_national_export_has_the_documented_columns_and_marks_each_row():
    i = issued(2)
    a, b = i.certificates
    records.certificate_revoke(certificate=b, actor=i.centre, reason="违规", authority=Authority(SANCTION))
    with pytest.raises(ValidationError, match="没有可导出的证书"):  # nothing reported yet
        reporting.national_export(actor=i.centre, period_from=ISSUED_ON, period_to=ISSUED_ON)
    reporting.report_submit(plan=i.plan, actor=i.staff)
    with pytest.raises(PermissionDenied):
        reporting.national_export(actor=i.staff, period_from=ISSUED_ON, period_to=ISSUED_ON)
    export = reporting.national_export(actor=i.centre, period_from=ISSUED_ON, period_to=ISSUED_ON)
    wb = _workbook(export)
    ws = wb["证书信息"]
    header = [c.value for c in ws[1]]
    assert header == [h for h, _w, _n in reporting.NATIONAL_COLUMNS]
    for name in header:  # every column is documented in the module docstring and the notes sheet
        assert name in reporting.__doc__
    notes = [row[1] for row in wb["导出说明"].iter_rows(values_only=True) if len(row) > 1]
    assert set(header) <= set(notes)
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {a.number, b.number}
    assert rows[a.number][3] == a.id_number and rows[a.number][11] == "有效"
    assert rows[b.number][11] == "已撤销" and rows[b.number][12]
    assert ws.cell(row=2, column=4).number_format == "@"
    assert set(Certificate.objects.values_list("national_export", flat=True)) == {export.pk}
    assert export.rows == 2


def test_a_period_is_exported_again_only_when_asked_with_the_exported_rows():
    i = issued(2)
    reporting.report_submit(plan=i.plan, actor=i.staff)
    first = reporting.national_export(actor=i.centre, period_from=ISSUED_ON, period_to=ISSUED_ON)
    with pytest.raises(ValidationError, match="包括已导出的证书"):
        reporting.national_export(actor=i.centre, period_from=ISSUED_ON, period_to=ISSUED_ON)
    again = reporting.national_export(
        actor=i.centre, period_from=ISSUED_ON - dt.timedelta(days=30), period_to=ISSUED_ON, include_exported=True
    )
    assert again.rows == 2 and again.pk != first.pk
    assert set(Certificate.objects.values_list("national_export", flat=True)) == {again.pk}
    with pytest.raises(ValidationError, match="结束日期不能早于开始日期"):
        reporting.national_export(actor=i.centre, period_from=ISSUED_ON, period_to=ISSUED_ON - dt.timedelta(days=1))


def test_unreported_certificates_older_than_the_setting_are_listed(settings):
    i = issued(2)
    a, b = i.certificates
    Certificate.objects.filter(pk=b.pk).update(issued_on=ISSUED_ON - dt.timedelta(days=40))
    today = ISSUED_ON + dt.timedelta(days=5)
    assert list(reporting.unreported(today=today)) == [Certificate.objects.get(pk=b.pk)]
    settings.PORTAL_CERTIFICATE_REPORT_DAYS = 3
    assert set(reporting.unreported(today=today)) == {a, b}
    reporting.report_submit(plan=i.plan, actor=i.staff)
    assert not reporting.unreported(today=today).exists()


def test_the_reporting_pages():
    i = issued(1)
    staff, centre = client_for(i.staff), client_for(i.centre)
    page = staff.get(reverse("certificates:report_list")).content.decode()
    assert reverse("certificates:report_submit", args=[i.plan.pk]) in page
    assert staff.post(reverse("certificates:report_submit", args=[i.plan.pk])).status_code == 302
    report = CertificateReport.objects.get()
    url = reverse("certificates:report_receive", args=[report.pk])
    assert staff.post(url).status_code == 403
    assert centre.post(url).status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.RECEIVED
    response = centre.post(
        reverse("certificates:national"), {"period_from": ISSUED_ON.isoformat(), "period_to": ISSUED_ON.isoformat()}
    )
    assert response.status_code == 302
    export = NationalExport.objects.get()
    download = centre.get(reverse("certificates:national_download", args=[export.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"PK"
    assert client_for(i.staff).get(reverse("certificates:national")).status_code == 403
    assert centre.get(reverse("certificates:unreported")).status_code == 200


def test_the_request_and_report_lists_cost_a_constant_number_of_queries():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from certificates.models import RequestKind

    def grow(i):
        for c in i.certificates:
            records.request_create(certificate=c, actor=i.staff, kind=RequestKind.REVOKE, reason="核查")
        reporting.report_submit(plan=i.plan, actor=i.staff)

    first = issued(1)
    grow(first)
    client = client_for(first.centre)
    urls = [
        reverse("certificates:request_list"),
        reverse("certificates:report_list"),
        reverse("certificates:unreported"),
    ]
    for url in urls:
        client.get(url)
    small = {}
    for url in urls:
        with CaptureQueriesContext(connection) as q:
            assert client.get(url).status_code == 200
        small[url] = len(q)
    grow(issued(3))
    for url in urls:
        with CaptureQueriesContext(connection) as q:
            assert client.get(url).status_code == 200
        assert len(q) == small[url], url
