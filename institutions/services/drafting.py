"""The school drafts its application: contact, condition statements, evidence, occupations."""

from __future__ import annotations

from collections.abc import Iterable

import filetype
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from institutions.models import (
    CONDITION_TEXT,
    ApplicationKind,
    AppliedOccupation,
    Condition,
    ConditionAnswer,
    EvidenceFile,
    FilingApplication,
    Institution,
    InstitutionStatus,
)
from institutions.services.rules import refuse_second_open_application
from institutions.services.workflow import APPLICATION, is_school_staff_of
from portal.i18n import stored
from portal.models import Occupation, User
from portal.services import record
from portal.workflow import TransitionError
from schools.models import Level, Major, School

EVIDENCE_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def application_create(*, school: School, actor: User, kind: str = ApplicationKind.INITIAL) -> FilingApplication:
    if not is_school_staff_of(actor, school):
        raise PermissionDenied
    reason = stored(gettext_lazy("新建备案申请"))
    with transaction.atomic():
        School.objects.select_for_update().get(pk=school.pk)
        refuse_second_open_application(school)
        institution = Institution.objects.filter(school=school).first()  # not the cached reverse accessor
        if kind == ApplicationKind.INITIAL and institution is not None:
            raise TransitionError(_("学校已是备案评价机构；如需增加职业（工种），请选择“增加职业（工种）”。"))
        if kind == ApplicationKind.ADD_OCCUPATION and (
            institution is None or institution.status != InstitutionStatus.ACTIVE
        ):
            raise TransitionError(_("只有目录中有效的评价机构才能申请增加职业（工种）。"))
        app = FilingApplication(
            school=school,
            kind=kind,
            institution=institution if kind == ApplicationKind.ADD_OCCUPATION else None,
            created_by=actor,
            contact_name=school.contact_name,
            contact_phone=school.contact_phone,
        )
        record(app, actor=actor, reason=reason)
        app.save()
        bulk_create_with_history(
            [ConditionAnswer(application=app, condition=c, condition_text=CONDITION_TEXT[c]) for c in Condition.values],
            ConditionAnswer,
            default_user=actor,
            default_change_reason=reason,
        )
    return app


def editable(application: FilingApplication, actor: User) -> FilingApplication:
    """The application locked for a school edit; 403 for others, 409 once submitted."""
    if not is_school_staff_of(actor, application.school):
        raise PermissionDenied
    app = APPLICATION.lock(application)
    if not app.is_editable:
        raise TransitionError(_("申请已提交，不能修改；如需修改请等待退回或先撤回。"))
    return app


def application_update(*, application: FilingApplication, actor: User, contact_name: str, contact_phone: str) -> None:
    with transaction.atomic():
        app = editable(application, actor)
        app.contact_name, app.contact_phone = contact_name, contact_phone
        record(app, actor=actor, reason=stored(gettext_lazy("修改联系人")))
        app.save(update_fields=["contact_name", "contact_phone"])


def condition_answer_save(
    *, application: FilingApplication, actor: User, condition: int, statement: str
) -> ConditionAnswer:
    with transaction.atomic():
        app = editable(application, actor)
        answer = ConditionAnswer.objects.select_for_update().get(application=app, condition=condition)
        answer.statement = statement.strip()
        record(answer, actor=actor, reason=stored(gettext_lazy("填写条件说明")))
        answer.save(update_fields=["statement"])
    return answer


def evidence_add(*, application: FilingApplication, actor: User, condition: int, upload) -> EvidenceFile:
    """Accepts PDF, JPEG or PNG, judged by the file's content, at most 10 MB."""
    if upload.size > EVIDENCE_MAX_BYTES:
        raise ValidationError(_("文件“%(name)s”超过 10 MB。") % {"name": upload.name})
    head = upload.read(2048)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in EVIDENCE_TYPES:
        raise ValidationError(
            _("文件“%(name)s”不是 PDF、JPEG 或 PNG（按文件内容判断，而非扩展名）。") % {"name": upload.name}
        )
    with transaction.atomic():
        app = editable(application, actor)
        answer = ConditionAnswer.objects.get(application=app, condition=condition)
        evidence = EvidenceFile(
            answer=answer,
            original_name=upload.name[:200],
            content_type=kind.mime,
            size=upload.size,
            uploaded_by=actor,
        )
        evidence.file.save(f"{kind.extension}.{kind.extension}", upload, save=False)
        record(evidence, actor=actor, reason=stored(gettext_lazy("上传佐证材料")))
        evidence.save()
    return evidence


def evidence_remove(*, evidence: EvidenceFile, actor: User) -> None:
    with transaction.atomic():
        editable(evidence.answer.application, actor)
        record(evidence, actor=actor, reason=stored(gettext_lazy("删除佐证材料")))
        evidence.delete()


def occupation_add(
    *,
    application: FilingApplication,
    actor: User,
    occupation: Occupation,
    highest_level: int,
    lowest_level: int = Level.LEVEL_5,
    basis: str,
    specification_ref: str = "",
    majors: Iterable[Major] = (),
) -> AppliedOccupation:
    with transaction.atomic():
        app = editable(application, actor)
        majors = list(majors)
        if any(m.school_id != app.school_id for m in majors):
            raise PermissionDenied
        if lowest_level < highest_level:
            raise ValidationError(_("最低等级不能高于最高等级。"))
        applied = AppliedOccupation(
            application=app,
            occupation=occupation,
            lowest_level=lowest_level,
            highest_level=highest_level,
            basis=basis,
            specification_ref=specification_ref.strip(),
        )
        record(applied, actor=actor, reason=stored(gettext_lazy("添加申报职业（工种）")))
        try:
            with transaction.atomic():
                applied.save()
        except IntegrityError:
            raise ValidationError(_("该职业（工种）已在申请中。")) from None
        applied.majors.set(majors)
    return applied


def occupation_update(
    *,
    applied: AppliedOccupation,
    actor: User,
    occupation: Occupation,
    highest_level: int,
    lowest_level: int = Level.LEVEL_5,
    basis: str,
    specification_ref: str = "",
    majors: Iterable[Major] = (),
) -> AppliedOccupation:
    """Changes an occupation row while the application is a draft or returned (as ``occupation_add``).

    The submit rules stay the authority; this checks only what the row itself must hold.
    """
    with transaction.atomic():
        app = editable(applied.application, actor)
        row = AppliedOccupation.objects.select_for_update().get(pk=applied.pk, application=app)
        majors = list(majors)
        if any(m.school_id != app.school_id for m in majors):
            raise PermissionDenied
        if lowest_level < highest_level:
            raise ValidationError(_("最低等级不能高于最高等级。"))
        row.occupation = occupation
        row.lowest_level, row.highest_level = lowest_level, highest_level
        row.basis, row.specification_ref = basis, specification_ref.strip()
        record(row, actor=actor, reason=stored(gettext_lazy("修改申报职业（工种）")))
        try:
            with transaction.atomic():
                row.save(update_fields=["occupation", "lowest_level", "highest_level", "basis", "specification_ref"])
        except IntegrityError:
            raise ValidationError(_("该职业（工种）已在申请中。")) from None
        if {m.pk for m in majors} != {m.pk for m in row.majors.all()}:
            record(row, actor=actor, reason=stored(gettext_lazy("修改申报职业（工种）")))
            row.majors.set(majors)
    return row


def occupation_remove(*, applied: AppliedOccupation, actor: User) -> None:
    with transaction.atomic():
        editable(applied.application, actor)
        record(applied, actor=actor, reason=stored(gettext_lazy("删除申报职业（工种）")))
        applied.delete()
