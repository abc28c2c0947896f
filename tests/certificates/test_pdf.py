"""Certificate PDFs (issue 9 items 4-5): every field per 人社鉴发〔2021〕1号, real CJK glyphs in
subset fonts, under 300 KB, a QR code with the verification link, and a PAdES signature by the
portal's key that an edited copy fails."""

from __future__ import annotations

import io
import subprocess

import pytest

from certificates.models import Certificate
from certificates.services import documents
from certificates.services.issuance import issue_one
from tests.certificates.issuance_builders import give_photos, signing, signing_identity  # noqa: F401
from tests.certificates.test_issuance import ISSUED_ON, accepted

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("signing")]


@pytest.fixture
def certificate() -> Certificate:
    b = accepted(1)
    give_photos(b)
    c = issue_one(candidate=b.candidates[0], actor=b.staff, issued_on=ISSUED_ON)
    assert documents.certificate_render(certificate_id=c.pk)
    c.refresh_from_db()
    return c


def pdf_bytes(c: Certificate) -> bytes:
    with c.pdf.open("rb") as fh:
        return fh.read()


def pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode()


needs_poppler = pytest.mark.needs("poppler-utils")  # listed, and failed in CI, when missing


@needs_poppler
def test_pdf_shows_every_field_of_the_2021_certificate(certificate):
    text = pdf_text(pdf_bytes(certificate))
    flat = "".join(text.split())
    for expected in (
        "职业技能等级证书",
        "本证书由经备案的职业技能等级评价机构颁发",
        certificate.name,
        "居民身份证",
        certificate.id_number,
        certificate.occupation_name,
        "四级/中级工",
        certificate.number,
        certificate.institution_name,
        f"{ISSUED_ON.year}年{ISSUED_ON.month}月{ISSUED_ON.day}日",
        "jndj.osta.org.cn",
        "pjjg.osta.org.cn",
    ):
        assert expected in flat, expected
    assert "工种/职业方向：" + (certificate.work_type or "--") in flat


@needs_poppler
def test_pdf_is_one_a4_page_with_subset_cjk_fonts_and_the_photo(certificate):
    data = pdf_bytes(certificate)
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert "Pages:           1" in info
    assert "595.28 x 841.89 pts (A4)" in info or "A4" in info
    fonts = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()
    cjk = [line for line in fonts.splitlines() if "Hei" in line or "Song" in line or "CJK" in line or "Ming" in line]
    assert cjk and all(" yes yes " in line for line in cjk), fonts  # embedded and subset
    images = subprocess.run(["pdfimages", "-list", "-"], input=data, capture_output=True, check=False).stdout.decode()
    assert "jpeg" in images or "image" in images  # the photo


def test_pdf_is_under_300_kb(certificate):
    assert len(pdf_bytes(certificate)) < 300 * 1024


def test_qr_code_encodes_the_public_verification_link(certificate):
    url = documents.verification_url(certificate.token)
    assert url == f"https://skills.example.cn/verify/t/{certificate.token}/"
    html = documents.certificate_html(certificate)
    assert documents.qr_svg_data_uri(url) in html  # what segno encoded is exactly this URL
    import segno

    qr = segno.make(url, error="m", micro=False)
    assert qr.designator.endswith("-M")
    try:  # decode the drawn code when a decoder is available here
        from PIL import Image
        from pyzbar.pyzbar import decode  # type: ignore[import-not-found]
    except ImportError:
        return
    out = io.BytesIO()
    qr.save(out, kind="png", scale=6)
    assert decode(Image.open(out))[0].data.decode() == url


def test_the_token_is_not_derived_from_the_number(certificate):
    assert certificate.number not in certificate.token and len(certificate.token) >= 40


def test_signature_validates_and_names_the_certificate(certificate):
    data = pdf_bytes(certificate)
    answer = documents.verify_pdf(data)
    assert answer["genuine"] and answer["portal_key"] and answer["intact"] and answer["covers_whole_document"]
    assert answer["certificate"] == certificate and answer["matches_record"]
    assert answer["number"] == certificate.number and answer["status"] == "valid"
    assert certificate.pdf_sha256 == answer["sha256"]


def test_an_edited_copy_is_not_genuine(certificate):
    data = pdf_bytes(certificate)
    # 1. bytes changed inside the signed range (a figure retyped in a content stream or the metadata)
    i = data.index(certificate.number.encode() if certificate.number.encode() in data else b"/Producer")
    tampered = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]
    answer = documents.verify_pdf(tampered)
    assert not answer["genuine"] and not answer["matches_record"]
    # 2. an incremental update appended after the signature (how PDF editors save)
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.set_info(generic.DictionaryObject({generic.NameObject("/Title"): generic.TextStringObject("改过的证书")}))
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    answer = documents.verify_pdf(out.getvalue())
    assert answer["signed"] and answer["intact"]
    assert not answer["covers_whole_document"] and not answer["genuine"]
    assert answer["certificate"] == certificate  # found by the number, but not the stored bytes


def test_a_pdf_signed_by_another_key_is_not_genuine(certificate, tmp_path, settings):
    unsigned = documents.render_unsigned(certificate)
    ours = (settings.PORTAL_SIGNING_KEY, settings.PORTAL_SIGNING_CERT)
    key, cert = documents.create_demo_identity(tmp_path / "forger")
    settings.PORTAL_SIGNING_KEY, settings.PORTAL_SIGNING_CERT = str(key), str(cert)
    forged = documents.sign_pdf(unsigned)
    settings.PORTAL_SIGNING_KEY, settings.PORTAL_SIGNING_CERT = ours
    answer = documents.verify_pdf(forged)
    assert answer["signed"] and answer["intact"] and not answer["portal_key"] and not answer["genuine"]


def test_something_that_is_not_a_pdf_is_not_genuine():
    answer = documents.verify_pdf(b"hello, this is not a certificate")
    assert not answer["is_pdf"] and not answer["genuine"] and answer["certificate"] is None


def test_render_twice_keeps_one_file(certificate):
    assert not documents.certificate_render(certificate_id=certificate.pk)
    name = certificate.pdf.name
    certificate.refresh_from_db()
    assert certificate.pdf.name == name
