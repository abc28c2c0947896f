"""Writes of the schools app. Views and jobs call these; nothing else saves these models."""

from __future__ import annotations

import filetype
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from portal.i18n import stored
from portal.models import Role, User
from portal.services import record, upsert_rows
from schools.models import Major, School, Student, ThroughKind, ThroughProgramme, TrainingLevel

# The approval document of a through-programme: what evidence of a filing condition may be.
DOCUMENT_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
# Which kinds of through-programme a major of each training level can be part of.
THROUGH_KINDS_BY_LEVEL: dict[str, set[str]] = {
    TrainingLevel.SECONDARY: {ThroughKind.SECONDARY_HIGHER, ThroughKind.SECONDARY_UNDERGRADUATE},
    TrainingLevel.HIGHER: {ThroughKind.SECONDARY_HIGHER, ThroughKind.HIGHER_UNDERGRADUATE},
    TrainingLevel.UNDERGRADUATE: {ThroughKind.SECONDARY_UNDERGRADUATE, ThroughKind.HIGHER_UNDERGRADUATE},
}


def may_manage_school_records(user: User, school: School) -> bool:
    """School staff keep their own school's majors and students."""
    if user.is_superuser:
        return True
    return user.has_role(Role.SCHOOL_STAFF) and user.organisation_id == school.organisation_id


def school_update(*, school: School, actor: User, data: dict, reason: str = "") -> School:
    if not may_manage_school_records(actor, school):
        raise PermissionDenied
    allowed = {"address", "contact_name", "contact_phone"}
    with transaction.atomic():
        school = School.objects.select_for_update().get(pk=school.pk)
        for key in allowed & data.keys():
            setattr(school, key, data[key])
        school.full_clean()
        record(school, actor=actor, reason=reason or _("更新学校联系信息"))
        school.save(update_fields=sorted(allowed & data.keys()) or None)
    return school


def major_import(*, school: School, actor: User, rows: list[dict]) -> dict:
    """Create or update majors from validated import rows, all or nothing."""
    if not may_manage_school_records(actor, school):
        raise PermissionDenied
    return upsert_rows(
        queryset=Major.objects.filter(school=school),
        key=("code",),
        rows=rows,
        actor=actor,
        reason=_("Excel导入专业"),
        new_fields={"school": school},
    )


def student_import(*, school: School, actor: User, rows: list[dict], progress=None) -> dict:
    """Create students from validated import rows in one transaction.

    Rows must already be checked (schools.excel) against the database; a duplicate that slips
    in concurrently fails the unique constraint and rolls everything back.
    """
    if not may_manage_school_records(actor, school):
        raise PermissionDenied
    reason = _("Excel导入学籍学生")
    students = [Student(school=school, **row) for row in rows]
    with transaction.atomic():
        created = bulk_create_with_history(
            students, Student, batch_size=1000, default_user=actor, default_change_reason=reason
        )
    return {"created": len(created)}


# --- Through-programmes (贯通培养) ----------------------------------------------------------


def _checked_document(upload) -> str:
    """The content type of an approval document: PDF, JPEG or PNG by its content, at most 10 MB."""
    if upload is None:
        raise ValidationError({"file": _("请上传教育行政部门的批准文件。")})
    if upload.size > DOCUMENT_MAX_BYTES:
        raise ValidationError({"file": _("文件“%(name)s”超过 10 MB。") % {"name": upload.name}})
    head = upload.read(2048)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in DOCUMENT_TYPES:
        raise ValidationError(
            {"file": _("文件“%(name)s”不是 PDF、JPEG 或 PNG（按文件内容判断，而非扩展名）。") % {"name": upload.name}}
        )
    return kind.mime


def through_programme_record(
    *, major: Major, actor: User, kind: str, partner: str, approval_ref: str, upload
) -> ThroughProgramme:
    """The school records one of its majors as a through-programme, with the approval document.

    Sets ``Major.is_through_programme`` (so ``School.has_through_programme`` follows); both the
    record and the major keep their history with the acting user.
    """
    if not may_manage_school_records(actor, major.school):
        raise PermissionDenied
    content_type = _checked_document(upload)
    errors = {}
    if kind not in THROUGH_KINDS_BY_LEVEL.get(major.training_level, set()):
        errors["kind"] = _("%(level)s专业不能登记为“%(kind)s”。") % {
            "level": major.get_training_level_display(),
            "kind": ThroughKind(kind).label if kind in ThroughKind.values else kind,
        }
    if not partner.strip():
        errors["partner"] = _("请填写合作院校。")
    if not approval_ref.strip():
        errors["approval_ref"] = _("请填写批准文件文号。")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        major = Major.objects.select_for_update().get(pk=major.pk)
        if not major.is_active:
            raise ValidationError({"major": _("专业“%(major)s”已停办，不能登记为贯通培养专业。") % {"major": major}})
        if ThroughProgramme.objects.filter(major=major).exists():
            raise ValidationError({"major": _("专业“%(major)s”已登记为贯通培养专业。") % {"major": major}})
        programme = ThroughProgramme(
            major=major,
            kind=kind,
            partner=partner.strip(),
            approval_ref=approval_ref.strip(),
            original_name=upload.name[:200],
            content_type=content_type,
            size=upload.size,
            recorded_by=actor,
        )
        extension = filetype.get_type(mime=content_type).extension
        programme.file.save(f"{extension}.{extension}", upload, save=False)
        reason = stored(gettext_lazy("登记贯通培养专业，批准文件%(ref)s"), ref=programme.approval_ref)
        record(programme, actor=actor, reason=reason)
        programme.save()
        if not major.is_through_programme:
            major.is_through_programme = True
            record(major, actor=actor, reason=reason)
            major.save(update_fields=["is_through_programme"])
    return programme


def through_programme_withdraw(*, programme: ThroughProgramme, actor: User, reason: str) -> None:
    """Withdraws a recorded through-programme (the history keeps it). Refused while students of the
    major are registered at a through-programme stage: their records would no longer hold."""
    if not may_manage_school_records(actor, programme.major.school):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError({"reason": _("请填写撤销原因。")})
    with transaction.atomic():
        major = Major.objects.select_for_update().get(pk=programme.major_id)
        staged = major.students.exclude(through_stage="").count()
        if staged:
            raise ValidationError(
                _("专业“%(major)s”有%(n)s名学生登记了贯通培养阶段，请先修改这些学生的学籍，再撤销。")
                % {"major": major, "n": staged}
            )
        programme = ThroughProgramme.objects.select_for_update().get(pk=programme.pk)
        why = stored(gettext_lazy("撤销贯通培养专业：%(reason)s"), reason=reason.strip())
        record(programme, actor=actor, reason=why)
        programme.delete()
        major.is_through_programme = False
        record(major, actor=actor, reason=why)
        major.save(update_fields=["is_through_programme"])
