"""Shared by the issuance and PDF tests: a signing identity in a temporary directory, photos."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from certificates.models import CandidatePhoto
from certificates.services import documents


@pytest.fixture(scope="session")
def signing_identity(tmp_path_factory):
    return documents.create_demo_identity(tmp_path_factory.mktemp("signing"))


@pytest.fixture
def signing(settings, signing_identity):
    key, cert = signing_identity
    settings.PORTAL_SIGNING_KEY, settings.PORTAL_SIGNING_CERT = str(key), str(cert)
    settings.PORTAL_SIGNING_PKCS12 = ""
    settings.PORTAL_PUBLIC_URL = "https://skills.example.cn"
    return signing_identity


def jpeg(width: int = 413, height: int = 579) -> bytes:
    img = Image.new("RGB", (width, height), (255, 255, 255))
    for x in range(width // 4, 3 * width // 4):
        for y in range(height // 5, 4 * height // 5, 3):
            img.putpixel((x, y), (40, 60, 120))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def give_photo(candidate, actor) -> CandidatePhoto:
    data = jpeg()
    photo = CandidatePhoto(
        student=candidate.student, content_type="image/jpeg", size=len(data), width=413, height=579, uploaded_by=actor
    )
    photo.file.save(f"{candidate.student_id}.jpg", ContentFile(data), save=False)
    photo.save()
    return photo


def give_photos(b) -> None:
    for c in b.candidates:
        give_photo(c, b.staff)
