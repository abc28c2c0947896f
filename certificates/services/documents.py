"""Certificate PDFs (人社鉴发〔2021〕1号): rendered, signed (PAdES) and checked.

``certificate_render`` renders one certificate's PDF outside any transaction (after the issuing
transaction committed, in the issue job), signs it with the portal's issuing key, stores it
under a name fixed by the certificate and records it with a conditional update, so running it
twice, or two workers at once, leaves one file. ``pdf_sha256`` is the digest of the final,
signed bytes.

``verify_pdf(data)`` tells whether uploaded bytes are a PDF signed by the portal's key with an
intact signature covering the whole document, and which certificate they are.

The signing identity comes from settings: ``PORTAL_SIGNING_KEY`` + ``PORTAL_SIGNING_CERT``
(PEM paths) or ``PORTAL_SIGNING_PKCS12`` (+ ``PORTAL_SIGNING_PKCS12_PASSWORD``). With none
configured and demo data allowed, a self-signed demo identity is created once under
``VAR_DIR/signing/`` (never committed; a real deployment installs its own).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import logging
import re
import threading
import zipfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone, translation

from certificates.models import Certificate, CertificateStatus

logger = logging.getLogger(__name__)

NATIONAL_CERTIFICATE_LOOKUP = "jndj.osta.org.cn"
NATIONAL_INSTITUTION_LOOKUP = "pjjg.osta.org.cn"
PHOTO_PIXELS = (260, 364)  # 1 inch (25 x 35 mm) at about 264 dpi: sharp in print, small in the file
SIGNATURE_FIELD = "PortalSignature"


# --- The verification address in the QR code ---------------------------------------------------


def verification_path(token: str) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("certificates:verify_token", args=[token])
    except NoReverseMatch:
        return f"/verify/t/{token}/"


def verification_url(token: str) -> str:
    base = (getattr(settings, "PORTAL_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{verification_path(token)}"


def qr_svg_data_uri(text: str) -> str:
    import segno

    out = io.BytesIO()
    segno.make(text, error="m", micro=False).save(out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def photo_data_uri(data: bytes) -> str:
    """The photo as a small JPEG (1 inch at print resolution); the upload itself may be larger."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        img.thumbnail(PHOTO_PIXELS)
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=85, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def _photo_bytes(certificate: Certificate) -> bytes | None:
    if not certificate.photo:
        return None
    try:
        with certificate.photo.open("rb") as fh:
            return fh.read()
    except (FileNotFoundError, OSError):
        logger.warning("certificate %s: photo %s is missing", certificate.pk, certificate.photo.name)
        return None


# --- Rendering ----------------------------------------------------------------------------------


def certificate_html(certificate: Certificate, *, photo: bytes | None = None) -> str:
    from schools.models import IdType, Level

    with translation.override("zh-hans"):
        return render_to_string(
            "certificates/pdf/certificate.html",
            {
                "c": certificate,
                "level_label": str(Level(certificate.level).label),
                "id_type_label": str(IdType(certificate.id_type).label) if certificate.id_type else "",
                "work_type": certificate.work_type or "--",
                "qr": qr_svg_data_uri(verification_url(certificate.token)),
                "verify_url": verification_url(certificate.token),
                "photo": photo_data_uri(photo) if photo else "",
                "national_certificate_lookup": NATIONAL_CERTIFICATE_LOOKUP,
                "national_institution_lookup": NATIONAL_INSTITUTION_LOOKUP,
            },
        )


def render_unsigned(certificate: Certificate, *, photo: bytes | None = None) -> bytes:
    from weasyprint import HTML

    return HTML(string=certificate_html(certificate, photo=photo)).write_pdf()


def render_signed(certificate: Certificate) -> bytes:
    return sign_pdf(render_unsigned(certificate, photo=_photo_bytes(certificate)))


def pdf_file_name(certificate: Certificate) -> str:
    return f"certificates/pdf/{certificate.issued_on:%Y}/{certificate.number}.pdf"


def certificate_render(*, certificate_id: int, force: bool = False) -> bool:
    """Render, sign and store the certificate's PDF unless it has one. True when this call stored it.

    Slow work: call outside any transaction (the issue job does, after each certificate commits).
    """
    certificate = Certificate.objects.filter(pk=certificate_id).first()
    if certificate is None or (certificate.pdf and not force):
        return False
    data = render_signed(certificate)  # no transaction, no lock held
    storage = certificate.pdf.storage
    name = pdf_file_name(certificate)
    if storage.exists(name):  # an earlier attempt wrote it but did not record it, or a forced re-render
        storage.delete(name)
    saved = storage.save(name, ContentFile(data))
    rows = Certificate.objects.filter(pk=certificate_id)
    if not force:
        rows = rows.filter(pdf="")
    recorded = rows.update(pdf=saved, pdf_sha256=hashlib.sha256(data).hexdigest(), pdf_rendered_at=timezone.now())
    if not recorded and saved != name:  # someone else recorded theirs meanwhile
        storage.delete(saved)
    return bool(recorded)


def zip_of(certificates) -> bytes:
    """The PDFs as one ZIP, each named by its number and holder (rendered first where missing)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:  # PDFs are compressed already
        for c in certificates:
            if not c.pdf:
                certificate_render(certificate_id=c.pk)
                c.refresh_from_db(fields=["pdf", "pdf_sha256"])
            with c.pdf.open("rb") as fh:
                zf.writestr(f"{c.number}-{c.name}.pdf", fh.read())
    return out.getvalue()


# --- The signing identity -----------------------------------------------------------------------

_identity_lock = threading.Lock()


def demo_identity_dir() -> Path:
    return Path(settings.VAR_DIR) / "signing"


def create_demo_identity(directory: Path) -> tuple[Path, Path]:
    """A self-signed RSA key and certificate (PEM) for demos and tests: key.pem, cert.pem."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "上海市职业技能等级认定工作平台（演示）"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Demo certificate signing key - not for production"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(key, hashes.SHA256())
    )
    tmp_key = key_path.with_suffix(".tmp")
    tmp_key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    tmp_key.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tmp_key.replace(key_path)
    return key_path, cert_path


def ensure_demo_identity() -> tuple[Path, Path] | None:
    """Create the demo identity when no key is configured (seed_demo calls this); None if configured."""
    if _configured():
        return None
    with _identity_lock:
        return create_demo_identity(demo_identity_dir())


def _configured() -> bool:
    return bool(
        getattr(settings, "PORTAL_SIGNING_PKCS12", "")
        or (getattr(settings, "PORTAL_SIGNING_KEY", "") and getattr(settings, "PORTAL_SIGNING_CERT", ""))
    )


def _identity_source() -> tuple:
    if getattr(settings, "PORTAL_SIGNING_PKCS12", ""):
        return ("pkcs12", settings.PORTAL_SIGNING_PKCS12, getattr(settings, "PORTAL_SIGNING_PKCS12_PASSWORD", ""))
    if getattr(settings, "PORTAL_SIGNING_KEY", "") and getattr(settings, "PORTAL_SIGNING_CERT", ""):
        return ("pem", settings.PORTAL_SIGNING_KEY, settings.PORTAL_SIGNING_CERT)
    if not getattr(settings, "DEMO_DATA_ALLOWED", False):
        raise ImproperlyConfigured(
            "No certificate signing key: set PORTAL_SIGNING_KEY and PORTAL_SIGNING_CERT, or PORTAL_SIGNING_PKCS12."
        )
    key_path, cert_path = ensure_demo_identity()
    return ("pem", str(key_path), str(cert_path))


def _cached_key_signer_class():
    """pyHanko's SimpleSigner loads (and validates) the RSA key for every signature, twice per
    PDF (a dry run sizes the signature): about 190 ms each with current ``cryptography``. This
    subclass loads it once per process."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash

    class CachedKeySigner(signers.SimpleSigner):
        _pyca_key = None

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            try:
                name = mechanism.signature_algo
            except ValueError:
                name = mechanism["algorithm"].native
            if name != "rsassa_pkcs1v15":
                return super().sign_raw(data, digest_algorithm)
            if self._pyca_key is None:
                self._pyca_key = serialization.load_der_private_key(self.signing_key.dump(), password=None)
            return self._pyca_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))

    return CachedKeySigner


@lru_cache(maxsize=4)
def _load_signer(source: tuple):
    cls = _cached_key_signer_class()
    if source[0] == "pkcs12":
        password = source[2].encode() if source[2] else None
        signer = cls.load_pkcs12(source[1], passphrase=password)
    else:
        signer = cls.load(source[1], source[2], key_passphrase=None)
    if signer is None:
        raise ImproperlyConfigured(f"The certificate signing key could not be loaded from {source[1]}.")
    signer.__class__ = cls  # load() builds a plain SimpleSigner; the subclass only adds the key cache
    return signer


def signer():
    return _load_signer(_identity_source())


def signing_certificate_sha256() -> str:
    """The fingerprint of the portal's signing certificate (what verify_pdf accepts)."""
    return signer().signing_cert.sha256.hex()


def sign_pdf(data: bytes) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="职业技能等级证书 / Vocational skill level certificate",
        location="Shanghai",
    )
    out = signers.PdfSigner(meta, signer=signer()).sign_pdf(writer)
    return out.getvalue()


# --- Checking an uploaded PDF ------------------------------------------------------------------


def _number_in_metadata(reader) -> str:
    from certificates.services.numbering import NUMBER_RE

    try:
        info = reader.trailer_view.get("/Info")
        info = info.get_object() if info is not None else {}
        for key in ("/Keywords", "/Subject", "/Title"):
            value = str(info.get(key, "") or "")
            for word in value.replace(",", " ").split():
                if NUMBER_RE.match(word):
                    return word
    except Exception:  # noqa: BLE001 - damaged metadata only means no number from it
        return ""
    return ""


_KEYWORDS_RE = re.compile(rb"/Keywords\s*\(([A-Z]\d{21})\)")


def _number_in_original_keywords(data: bytes) -> str:
    """The number as first written (an edit that rewrote the metadata in an update leaves it)."""
    match = _KEYWORDS_RE.search(data)
    return match.group(1).decode() if match else ""


def verify_pdf(data: bytes) -> dict:
    """What the bytes are. Keys:

    ``is_pdf``; ``signed`` (has a signature); ``intact`` (the signed bytes are unchanged);
    ``covers_whole_document`` (nothing was appended after signing); ``portal_key`` (signed by the
    portal's issuing certificate); ``genuine`` (all of these); ``sha256`` of the bytes;
    ``number`` embedded in the metadata; ``certificate`` (the Certificate found by sha256, else
    by that number, else None); ``matches_record`` (the bytes are exactly the stored PDF);
    ``status`` of the certificate's record (valid / revoked / superseded, "" when none).
    """
    digest = hashlib.sha256(data).hexdigest()
    answer = {
        "is_pdf": False,
        "signed": False,
        "intact": False,
        "covers_whole_document": False,
        "portal_key": False,
        "genuine": False,
        "sha256": digest,
        "number": "",
        "certificate": None,
        "matches_record": False,
        "status": "",
    }
    if not data.lstrip()[:5] == b"%PDF-":
        return answer
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko.sign.validation.status import SignatureCoverageLevel
        from pyhanko_certvalidator import ValidationContext

        reader = PdfFileReader(io.BytesIO(data), strict=False)
        answer["is_pdf"] = True
        answer["number"] = _number_in_metadata(reader) or _number_in_original_keywords(data)
        sigs = list(reader.embedded_signatures)
        if sigs:
            answer["signed"] = True
            ours = signer().signing_cert
            status = validate_pdf_signature(sigs[-1], ValidationContext(trust_roots=[ours], allow_fetching=False))
            answer["intact"] = bool(status.intact)
            answer["covers_whole_document"] = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
            answer["portal_key"] = bool(
                status.valid and status.signing_cert is not None and status.signing_cert.sha256 == ours.sha256
            )
    except Exception:  # noqa: BLE001 - an unreadable upload is "not a genuine PDF", never a 500
        logger.info("uploaded PDF could not be read or checked", exc_info=True)
    answer["genuine"] = bool(
        answer["is_pdf"] and answer["signed"] and answer["intact"] and answer["covers_whole_document"]
    ) and bool(answer["portal_key"])
    certificate = Certificate.objects.filter(pdf_sha256=digest).first()
    if certificate is not None:
        answer["matches_record"] = True
    elif answer["number"]:
        certificate = Certificate.objects.filter(number=answer["number"]).first()
    answer["certificate"] = certificate
    answer["status"] = certificate.status if certificate is not None else ""
    return answer


__all__ = [
    "CertificateStatus",
    "certificate_render",
    "ensure_demo_identity",
    "render_signed",
    "sign_pdf",
    "verification_url",
    "verify_pdf",
    "zip_of",
]
