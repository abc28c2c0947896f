"""Writes of the schools app. Views and jobs call these; nothing else saves these models."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from portal.models import Role, User
from portal.services import record, upsert_rows
from schools.models import Major, School, Student


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
