"""Verification of an uploaded certificate PDF (issue 9 §5): genuine and unaltered or not, and the
status of its record; checked by content, size-limited, rate-limited and logged like every lookup."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from certificates.models import VerificationLog
from certificates.services import documents, verification
from tests.certificates.issuance_builders import signing, signing_identity  # noqa: F401 (fixtures)
from tests.certificates.test_verify_builders import issued, revoke, supersede

pytestmark = [pytest.mark.django_db, pytest.mark.needs("pango")]

URL = "/verify/pdf/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pdf(signing):  # noqa: F811
    """A certificate with its signed PDF as the portal issued it, and the bytes."""
    certificate = issued(1)[0]
    documents.certificate_render(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    with certificate.pdf.open("rb") as fh:
        return certificate, fh.read()


def upload(data: bytes, name: str = "证书.pdf", content_type: str = "application/pdf"):
    return Client().post(URL, {"file": SimpleUploadedFile(name, data, content_type=content_type)})


def text(response) -> str:
    return response.content.decode()


def test_the_upload_form_is_public():
    response = Client().get(URL)
    assert response.status_code == 200 and 'type="file"' in text(response)
    assert "no-store" in response["Cache-Control"]


def test_a_genuine_unaltered_pdf_is_reported_genuine_with_its_records_status(pdf):
    certificate, data = pdf
    response = upload(data)
    assert response.status_code == 200
    body = text(response)
    assert "本平台颁发的证书，文件未被改动" in body
    assert certificate.name in body and "有效" in body and certificate.id_number not in body
    log = VerificationLog.objects.get()
    assert log.channel == "upload" and log.answer == "valid" and log.certificate_id == certificate.pk
    assert log.asked.startswith("pdf:") and len(log.asked) == 4 + 64


def test_rule_a_pdf_with_one_byte_changed_is_reported_altered(pdf):
    certificate, data = pdf
    edited = bytearray(data)
    position = len(edited) // 3  # inside the signed bytes
    edited[position] = (edited[position] + 1) % 256
    result = verification.check_pdf(bytes(edited))
    assert result.is_pdf and not result.genuine and result.status == "altered"
    body = text(upload(bytes(edited)))
    assert "文件已被改动" in body and "本平台颁发的证书，文件未被改动" not in body
    assert certificate.name not in body  # an edited file learns nothing about the record
    assert VerificationLog.objects.get().answer == "altered"


def test_rule_a_pdf_with_bytes_appended_after_signing_is_reported_altered(pdf):
    _certificate, data = pdf
    assert verification.check_pdf(data + b"\n% appended\n%%EOF\n").status == "altered"


def test_an_unsigned_pdf_of_the_same_certificate_is_not_genuine(pdf):
    certificate, _data = pdf
    unsigned = documents.render_unsigned(certificate)
    assert verification.check_pdf(unsigned).status == "altered"


def test_rule_a_file_that_is_not_a_pdf_is_refused_by_its_content_whatever_its_name(pdf):
    body = text(upload(b"\x89PNG\r\n\x1a\n" + b"0" * 200, name="证书.pdf"))
    assert "不是PDF文件" in body
    assert VerificationLog.objects.get().answer == "not_pdf"


def test_rule_uploads_are_size_limited(settings):
    settings.PORTAL_VERIFY_UPLOAD_MAX_BYTES = 1000
    response = upload(b"%PDF-1.7\n" + b"0" * 2000)
    assert response.status_code == 200 and "文件过大" in text(response)
    assert VerificationLog.objects.count() == 0  # refused before any lookup


def test_rule_a_genuine_pdf_of_a_revoked_certificate_says_revoked_never_valid(pdf):
    certificate, data = pdf
    revoke(certificate, reason="证书信息有误")
    body = text(upload(data))
    assert "本平台颁发的证书，文件未被改动" in body
    assert "已撤销" in body and "证书信息有误" in body and "text-bg-success" not in body


def test_a_genuine_pdf_of_a_superseded_certificate_points_to_its_successor(pdf):
    certificate, data = pdf
    new = supersede(certificate, name=certificate.name)
    body = text(upload(data))
    assert "已更正" in body and new.number in body


def test_uploads_are_rate_limited_with_the_chinese_message(pdf, settings):
    settings.PORTAL_VERIFY_RATE = "1/m"
    _certificate, data = pdf
    assert upload(data).status_code == 200
    refused = upload(data)
    assert refused.status_code == 429 and "查询次数过多" in text(refused)


def test_without_a_signature_checker_the_exact_issued_bytes_are_genuine(pdf, monkeypatch):
    """The fallback where certificates.services.documents is absent: sha256 of the issued file."""
    import builtins

    _certificate, data = pdf
    real_import = builtins.__import__

    def no_documents(name, *args, **kwargs):
        if name == "certificates.services.documents":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_documents)
    assert verification.check_pdf(data).status == "valid"
    assert verification.check_pdf(data[:-1] + b" ").status == "altered"
