"""Candidates' photos (issue 9 item 3; 人社鉴发〔2021〕1号: 1-inch colour photo on white).

One photo per student (``CandidatePhoto``), uploaded by the school's staff one at a time from a
batch's candidate list, or in bulk as a ZIP whose files are named by ID number or student number
(学号). Every file is judged by its content (JPEG or PNG, via ``filetype``), its size
(``MAX_BYTES``) and its pixel dimensions (read with Pillow): a 1-inch photo is about 295×413 px
at 300 dpi; anything smaller than ``MIN_SIZE`` or larger than ``MAX_SIZE``, or in landscape, is
refused with a message naming the file. A file is stored only once it passed every check, so no
partial or refused file is ever written. The ZIP import reports each file on its own.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

import filetype
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, UnidentifiedImageError

from assessments.models import EvaluationPlan
from certificates.models import CandidatePhoto
from institutions.services.workflow import is_school_staff_of
from portal.i18n import stored
from portal.models import User
from portal.services import record
from schools.models import Student

MAX_BYTES = 2 * 1024 * 1024
MIN_SIZE = (90, 120)  # width, height in pixels
MAX_SIZE = (1200, 1600)
MAX_ZIP_BYTES = 200 * 1024 * 1024
MAX_ZIP_FILES = 2000
PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class CheckedPhoto:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def check_photo(data: bytes, name: str) -> CheckedPhoto:
    """The photo rules, each refusal a message naming the file."""
    if len(data) > MAX_BYTES:
        raise ValidationError(_("照片“%(name)s”超过 2 MB。") % {"name": name})
    if not data:
        raise ValidationError(_("照片“%(name)s”是空文件。") % {"name": name})
    kind = filetype.guess(data[:2048])
    if kind is None or kind.mime not in PHOTO_TYPES:
        raise ValidationError(_("照片“%(name)s”不是 JPEG 或 PNG 图片（按文件内容判断，而非扩展名）。") % {"name": name})
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("照片“%(name)s”已损坏，无法读取。") % {"name": name}) from None
    if width < MIN_SIZE[0] or height < MIN_SIZE[1] or width > MAX_SIZE[0] or height > MAX_SIZE[1]:
        raise ValidationError(
            _(
                "照片“%(name)s”为%(w)s×%(h)s像素：一寸照片应在%(min_w)s×%(min_h)s至%(max_w)s×%(max_h)s像素之间"
                "（300 dpi 时约为295×413像素）。"
            )
            % {
                "name": name,
                "w": width,
                "h": height,
                "min_w": MIN_SIZE[0],
                "min_h": MIN_SIZE[1],
                "max_w": MAX_SIZE[0],
                "max_h": MAX_SIZE[1],
            }
        )
    if width >= height:
        raise ValidationError(
            _("照片“%(name)s”为%(w)s×%(h)s像素：一寸照片应为竖幅（高大于宽）。")
            % {"name": name, "w": width, "h": height}
        )
    return CheckedPhoto(data, kind.mime, PHOTO_TYPES[kind.mime], width, height)


def _store(student: Student, actor: User, photo: CheckedPhoto) -> CandidatePhoto:
    """Save the checked photo (file and row) in one step; the file is removed if the row fails."""
    existing = CandidatePhoto.objects.select_for_update().filter(student=student).first()
    row = existing or CandidatePhoto(student=student)
    row.content_type = photo.content_type
    row.size = len(photo.data)
    row.width, row.height = photo.width, photo.height
    row.uploaded_by = actor
    storage = CandidatePhoto._meta.get_field("file").storage
    row.file.save(f"{student.pk}.{photo.extension}", ContentFile(photo.data), save=False)
    saved_name = row.file.name
    try:
        record(row, actor=actor, reason=stored(gettext_lazy("上传考生照片")))
        row.save()
    except Exception:
        storage.delete(saved_name)
        raise
    return row


def may_upload(actor: User, student: Student, plan: EvaluationPlan | None = None) -> bool:
    """The student's own school, or the school running a batch the student is a candidate of."""
    if is_school_staff_of(actor, student.school):
        return True
    return (
        plan is not None
        and is_school_staff_of(actor, plan.institution.school)
        and plan.candidates.filter(student=student).exists()
    )


def photo_save(
    *, student: Student, actor: User, data: bytes, name: str, plan: EvaluationPlan | None = None
) -> CandidatePhoto:
    """One student's photo, replacing any earlier one (the history keeps who changed it)."""
    if not may_upload(actor, student, plan):
        raise PermissionDenied
    photo = check_photo(data, name)
    with transaction.atomic():
        return _store(student, actor, photo)


@dataclass
class ImportRow:
    file_name: str
    student: Student | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.student is not None and not self.message


def _member_name(info: zipfile.ZipInfo) -> str:
    """The file's name as the school typed it: ZIPs made on Chinese Windows store GBK without the UTF-8 flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name


def photos_import_zip(*, plan: EvaluationPlan, actor: User, data: bytes) -> list[ImportRow]:
    """Each file of the ZIP matched to a candidate of ``plan`` by ID number or student number, checked
    and stored on its own: the report says for each file whom it matched, or why not."""
    if not is_school_staff_of(actor, plan.institution.school):
        raise PermissionDenied
    if len(data) > MAX_ZIP_BYTES:
        raise ValidationError(_("ZIP 文件超过 200 MB。"))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError(_("上传的文件不是有效的 ZIP 压缩包。")) from None
    members = [
        i
        for i in members
        if not _member_name(i).startswith("__MACOSX/") and not os.path.basename(_member_name(i)).startswith(".")
    ]
    if not members:
        raise ValidationError(_("ZIP 压缩包中没有文件。"))
    if len(members) > MAX_ZIP_FILES:
        raise ValidationError(_("ZIP 压缩包中的文件超过%(n)s个。") % {"n": MAX_ZIP_FILES})
    students = {}
    for student in Student.objects.filter(candidacies__plan=plan).distinct():
        students[student.id_number.upper()] = student
        students[student.student_number.upper()] = student
    rows: list[ImportRow] = []
    taken: dict[int, str] = {}
    for info in members:
        shown = _member_name(info)
        stem = os.path.splitext(os.path.basename(shown))[0].strip().upper()
        row = ImportRow(shown)
        rows.append(row)
        student = students.get(stem)
        if student is None:
            row.message = _("文件名“%(stem)s”不是本批次任何考生的证件号码或学号。") % {"stem": stem}
            continue
        if student.pk in taken:
            row.message = _("与“%(other)s”是同一考生（%(who)s），本文件未导入。") % {
                "other": taken[student.pk],
                "who": student.name,
            }
            continue
        taken[student.pk] = shown
        row.student = student
        if info.file_size > MAX_BYTES:
            row.message = _("照片“%(name)s”超过 2 MB。") % {"name": shown}
            continue
        try:
            content = archive.read(info)
            photo_save(student=student, actor=actor, data=content, name=shown, plan=plan)
        except ValidationError as exc:
            row.message = "；".join(exc.messages)
        except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
            row.message = _("无法从压缩包读取“%(name)s”（文件损坏或已加密）。") % {"name": shown}
    return rows
