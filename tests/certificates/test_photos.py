"""Candidates' photos (issue 9 item 3): type by content, size limit, sensible dimensions, the ZIP
import's report per file, no partial or refused file written, school staff of the school only."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certificates.models import CandidatePhoto
from certificates.services import photos as service
from portal.models import Role
from tests import factories
from tests.assessments.test_results_builders import batch
from tests.certificates.test_records_builders import jpeg
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "photos"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_photo_is_judged_by_its_content_not_its_name():
    b = batch(1)
    student = b.candidates[0].student
    png = jpeg(fmt="PNG")
    row = service.photo_save(student=student, actor=b.staff, data=png, name="照片.jpg")
    assert (row.content_type, row.width, row.height) == ("image/png", 295, 413)
    with pytest.raises(ValidationError, match="不是 JPEG 或 PNG"):
        service.photo_save(student=student, actor=b.staff, data=b"%PDF-1.4 not a photo", name="x.jpg")
    gif = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (295, 413)).save(gif, "GIF")
    with pytest.raises(ValidationError, match="不是 JPEG 或 PNG"):
        service.photo_save(student=student, actor=b.staff, data=gif.getvalue(), name="x.jpg")


def test_a_photo_is_at_most_2_mb():
    b = batch(1)
    big = jpeg() + b"\0" * (service.MAX_BYTES + 1)
    with pytest.raises(ValidationError, match="超过 2 MB"):
        service.photo_save(student=b.candidates[0].student, actor=b.staff, data=big, name="big.jpg")
    assert not CandidatePhoto.objects.exists()


@pytest.mark.parametrize(
    ("size", "message"),
    [((40, 50), "像素之间"), ((3000, 4000), "像素之间"), ((413, 295), "竖幅")],
)
def test_absurd_dimensions_are_refused(size, message):
    b = batch(1)
    before = stored_files()
    with pytest.raises(ValidationError, match=message):
        service.photo_save(student=b.candidates[0].student, actor=b.staff, data=jpeg(size), name="p.jpg")
    assert stored_files() == before  # nothing written


def test_a_corrupt_image_is_refused():
    b = batch(1)
    data = jpeg()[:200]
    with pytest.raises(ValidationError, match="已损坏|像素"):
        service.photo_save(student=b.candidates[0].student, actor=b.staff, data=data, name="p.jpg")


def test_only_the_schools_staff_upload_photos():
    b = batch(1)
    student = b.candidates[0].student
    for user in (b.centre, factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)):
        with pytest.raises(PermissionDenied):
            service.photo_save(student=student, actor=user, data=jpeg(), name="p.jpg")
    url = reverse("certificates:photo_list", args=[b.plan.pk])
    assert client_for(b.centre).get(url).status_code == 403
    assert client_for(factories.user(Role.EXPERT)).get(url).status_code == 404


def make_zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def test_the_zip_import_reports_each_file():
    b = batch(3)
    s1, s2, s3 = (c.student for c in b.candidates)
    outsider = factories.student(s1.major)
    data = make_zip(
        {
            f"photos/{s1.id_number}.jpg": jpeg(),
            f"{s2.student_number}.png": jpeg(fmt="PNG"),
            f"{s3.student_number}.jpg": jpeg((500, 300)),  # landscape: refused
            f"{outsider.id_number}.jpg": jpeg(),  # not a candidate of this batch
            f"{s1.student_number}.jpg": jpeg(),  # the same student again
            "__MACOSX/._x.jpg": b"junk",
        }
    )
    rows = service.photos_import_zip(plan=b.plan, actor=b.staff, data=data)
    report = {r.file_name: (r.student, r.ok, r.message) for r in rows}
    assert len(rows) == 5
    assert report[f"photos/{s1.id_number}.jpg"][:2] == (s1, True)
    assert report[f"{s2.student_number}.png"][:2] == (s2, True)
    assert report[f"{s3.student_number}.jpg"][1] is False and "竖幅" in report[f"{s3.student_number}.jpg"][2]
    assert "不是本批次任何考生" in report[f"{outsider.id_number}.jpg"][2]
    assert "同一考生" in report[f"{s1.student_number}.jpg"][2]
    assert set(CandidatePhoto.objects.values_list("student_id", flat=True)) == {s1.pk, s2.pk}
    assert len(stored_files()) == 2  # refused files were never written


def test_a_file_that_is_not_a_zip_is_refused():
    b = batch(1)
    with pytest.raises(ValidationError, match="不是有效的 ZIP"):
        service.photos_import_zip(plan=b.plan, actor=b.staff, data=b"not a zip")


def test_the_photo_pages_upload_one_and_import_a_zip():
    b = batch(2)
    first, second = b.candidates
    client = client_for(b.staff)
    url = reverse("certificates:photo_list", args=[b.plan.pk])
    response = client.post(
        url, {"candidate": first.pk, "file": SimpleUploadedFile("a.txt", b"hello", content_type="image/jpeg")}
    )
    assert response.status_code == 200 and "不是 JPEG 或 PNG" in response.content.decode()
    response = client.post(url, {"candidate": first.pk, "file": SimpleUploadedFile("a.jpg", jpeg())})
    assert response.status_code == 302
    assert CandidatePhoto.objects.filter(student=first.student).exists()
    zipped = make_zip({f"{second.student.id_number}.jpg": jpeg(), "nobody.jpg": jpeg()})
    response = client.post(
        reverse("certificates:photo_import", args=[b.plan.pk]), {"file": SimpleUploadedFile("p.zip", zipped)}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "1 / 2" in page and "nobody.jpg" in page
    assert CandidatePhoto.objects.filter(student=second.student).exists()


def test_the_batch_page_links_the_schools_staff_to_the_photos():
    b = batch(1)
    url = reverse("assessments:plan_detail", args=[b.plan.pk])
    link = reverse("certificates:photo_list", args=[b.plan.pk])
    assert link in client_for(b.staff).get(url).content.decode()
    assert link not in client_for(b.centre).get(url).content.decode()
