"""Writes of the schools app. Views and jobs call these; nothing else saves these models."""

from __future__ import annotations

import filetype
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from portal.i18n import stored
from portal.models import District, Organisation, OrganisationKind, Role, User, UserRole
from portal.services import record, upsert_rows
from portal.validators import validate_uscc
from schools.models import Major, School, SchoolType, Student, ThroughKind, ThroughProgramme, TrainingLevel

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


# --- Onboarding: a school and its first user ---------------------------------------------------


def may_onboard_schools(user: User) -> bool:
    """The centre's system administrators open schools on the portal."""
    return user.is_superuser or user.has_role(Role.SYSTEM_ADMIN)


def _onboarding_problems(
    *, name: str, school_type: str, district: District | None, uscc: str, full_name: str, username: str, email: str
) -> dict[str, list[str]]:
    """Every refused field with its own message, all at once."""
    errors: dict[str, list[str]] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not name:
        refuse("name", _("请填写学校名称。"))
    elif Organisation.objects.filter(name=name).exists():
        refuse("name", _("已有名为“%(name)s”的机构，请核对是否已开通。") % {"name": name})
    if school_type not in SchoolType.values:
        refuse("school_type", _("请选择学校类型。"))
    if district is None:
        refuse("district", _("请选择学校所在区。"))
    if not uscc:
        refuse("uscc", _("请填写统一社会信用代码。"))
    else:
        try:
            validate_uscc(uscc)
        except ValidationError as exc:
            for message in exc.messages:
                refuse("uscc", message)
        else:
            existing = School.objects.filter(uscc=uscc).select_related("organisation").first()
            if existing is not None:
                refuse("uscc", _("该统一社会信用代码已属于“%(school)s”。") % {"school": existing.name})
    if not full_name:
        refuse("full_name", _("请填写第一位用户的姓名。"))
    if not username:
        refuse("username", _("请填写登录用户名。"))
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            refuse("username", _("用户名只能包含字母、数字和 @ . + - _ 符号，不能有空格。"))
        else:
            if User.objects.filter(username__iexact=username).exists():
                refuse("username", _("用户名“%(username)s”已被使用，请换一个。") % {"username": username})
    if not email:
        refuse("email", _("请填写电子邮箱。"))
    else:
        try:
            validate_email(email)
        except ValidationError:
            refuse("email", _("“%(email)s”不是有效的电子邮箱地址。") % {"email": email})
    return errors


def school_onboard(
    *,
    actor: User,
    name: str,
    school_type: str,
    district: District | None,
    uscc: str,
    full_name: str,
    username: str,
    email: str,
    short_name: str = "",
) -> tuple[School, User]:
    """Opens a school on the portal with its first user (role school_staff), all or nothing.

    The user gets no password: ``set_password_link`` gives the administrator a one-use link to hand
    over, with which the user chooses their own.
    """
    if not may_onboard_schools(actor):
        raise PermissionDenied
    name, short_name, full_name = name.strip(), short_name.strip(), full_name.strip()
    uscc, username, email = uscc.strip().upper(), username.strip(), email.strip()
    errors = _onboarding_problems(
        name=name,
        school_type=school_type,
        district=district,
        uscc=uscc,
        full_name=full_name,
        username=username,
        email=email,
    )
    if errors:
        raise ValidationError(errors)
    reason = stored(gettext_lazy("开通学校：%(name)s"), name=name)
    try:
        with transaction.atomic():
            org = Organisation(kind=OrganisationKind.SCHOOL, name=name, short_name=short_name, district=district)
            org.full_clean()
            record(org, actor=actor, reason=reason)
            org.save()
            school = School(organisation=org, school_type=school_type, uscc=uscc)
            school.full_clean()
            record(school, actor=actor, reason=reason)
            school.save()
            user = User(username=username, email=email, full_name=full_name, organisation=org)
            user.set_unusable_password()
            user.full_clean()
            record(user, actor=actor, reason=reason)
            user.save()
            role = UserRole(user=user, role=Role.SCHOOL_STAFF)
            role.full_clean()
            record(role, actor=actor, reason=reason)
            role.save()
    except IntegrityError as exc:  # someone opened the same name, code or username a moment ago
        raise ValidationError(_("刚有人以相同的名称、信用代码或用户名开通了账号，请核对后重试。")) from exc
    return school, user


def set_password_link(user: User) -> str:
    """The path where ``user`` chooses a password: Django's password-reset token, valid for
    PASSWORD_RESET_TIMEOUT and void once a password is set (the token covers the password hash)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password_set", args=[uid, default_token_generator.make_token(user)])
