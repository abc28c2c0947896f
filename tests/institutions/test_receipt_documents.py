"""Receipts: numbered from the shared counter in the confirming transaction, rendered after commit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from institutions import services
from institutions.models import FilingReceipt
from institutions.services import documents
from portal.models import Counter
from tests import factories
from tests.conftest import client_for
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db


def confirm(cast: Cast, app):
    return services.filing_confirm(
        application=app,
        actor=cast.centre,
        ministry_report_ref="人社鉴备〔2026〕12号",
        ministry_reported_on=dt.date(2026, 11, 20),
        site_sequence=cast.site_sequence,
    )


def test_the_pdf_is_rendered_only_after_the_confirmation_commits(django_capture_on_commit_callbacks, monkeypatch):
    cast = Cast(factories.school())
    app = cast.consented()
    rendered_in_transaction = []

    from django.db import transaction

    real = documents.receipt_render

    def spy(*, receipt_id):
        rendered_in_transaction.append(transaction.get_connection().in_atomic_block)
        return real(receipt_id=receipt_id)

    monkeypatch.setattr(documents, "receipt_render", spy)
    monkeypatch.setattr(services, "receipt_render", spy)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        receipt = confirm(cast, app)
        assert not FilingReceipt.objects.get(pk=receipt.pk).pdf  # nothing written inside the step
    assert callbacks, "the render is queued on commit"
    for callback in callbacks:
        callback()
    receipt.refresh_from_db()
    assert receipt.pdf and receipt.pdf.read(5) == b"%PDF-"


def test_receipt_numbers_come_from_the_shared_counter_per_year():
    first = Cast(factories.school())
    second = Cast(factories.school())
    _a, r1 = first.filed()
    _b, r2 = second.filed()
    year = r1.issued_at.astimezone().year
    assert r1.number == f"沪职鉴备〔{year}〕001号" and r2.number == f"沪职鉴备〔{year}〕002号"
    assert Counter.objects.get(key=f"filing-receipt:{year}").value == 2


def test_a_failed_render_leaves_no_file_and_the_page_says_it_is_being_prepared(monkeypatch, tmp_path, settings):
    cast = Cast(factories.school())
    app = cast.consented()
    receipt = confirm(cast, app)  # on-commit callbacks do not run inside the test's transaction

    def broken(_receipt):
        raise OSError("font cache unavailable")

    monkeypatch.setattr("institutions.pdf.render_receipt", broken)
    with pytest.raises(OSError):
        services.receipt_render(receipt_id=receipt.pk)
    receipt.refresh_from_db()
    assert not receipt.pdf and receipt.pdf_attempts == 1
    private = settings.MEDIA_ROOT
    assert not list(private.glob("receipts/**/*.pdf")), "an orphan file was left behind"

    page = client_for(cast.staff).get(reverse("institutions:receipt_download", args=[app.pk]))
    assert page.status_code == 202
    assert "正在生成" in page.content.decode() and receipt.number in page.content.decode()


def test_rendering_twice_keeps_one_file(settings):
    cast = Cast(factories.school())
    app = cast.consented()
    receipt = confirm(cast, app)
    assert services.receipt_render(receipt_id=receipt.pk) is True
    assert services.receipt_render(receipt_id=receipt.pk) is False  # already there: nothing done
    receipt.refresh_from_db()
    assert len(list(settings.MEDIA_ROOT.glob("receipts/**/*.pdf"))) == 1
    assert receipt.pdf.name == documents.receipt_file_name(receipt)


def test_the_sweep_renders_receipts_a_lost_task_never_rendered():
    cast = Cast(factories.school())
    app = cast.consented()
    receipt = confirm(cast, app)
    assert services.receipts_render_pending() == 1
    receipt.refresh_from_db()
    assert receipt.pdf
    assert services.receipts_render_pending() == 0


def test_the_download_page_asks_again_for_a_render_that_is_overdue(time_machine):
    cast = Cast(factories.school())
    app = cast.consented()
    receipt = confirm(cast, app)
    client = client_for(cast.staff)
    url = reverse("institutions:receipt_download", args=[app.pk])
    assert client.get(url).status_code == 202  # just issued: wait for the queued job
    time_machine.move_to(receipt.issued_at + dt.timedelta(minutes=5))
    response = client.get(url)  # overdue: queued again (eager here, so rendered at once)
    receipt.refresh_from_db()
    assert receipt.pdf
    assert client.get(url).status_code == 200 and response.status_code in {200, 202}


@pytest.mark.needs("pango", "cjk-font", "poppler-utils")
def test_the_receipt_states_scope_sites_consents_and_the_ministry_reference(tmp_path):
    """Issue 7 item 7: 本校毕业学年学生, the sites, both consents with dates, the ministry filing reference."""
    import subprocess

    cast = Cast(factories.school())
    app, receipt = cast.filed()
    path = tmp_path / "receipt.pdf"
    path.write_bytes(receipt.pdf.read())
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    assert "本校毕业学年学生" in flat
    assert "实训楼考核站点" in flat and "实训楼3层" in flat and "音视频监控" in flat
    assert "市人力资源和社会保障局于" in flat and "市教育委员会于" in flat
    assert "第2页" not in flat  # one page
    assert "人社鉴备〔2026〕12号" in flat
