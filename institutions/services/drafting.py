"""The school drafts its application: contact, condition statements, evidence, occupations."""

from __future__ import annotations

from collections.abc import Iterable

import filetype
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history

from institutions.models import (
    CONDITION_TEXT,
    ApplicationKind,
    AppliedOccupation,
    AssessmentSite,
    Condition,
    ConditionAnswer,
    EvidenceFile,
    ExamRoom,
    FilingApplication,
    Institution,
)
from institutions.services.rules import kind_problem, refuse_second_open_application
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
        problem = kind_problem(kind, institution, timezone.localdate())
        if problem:
            raise TransitionError(problem)
        app = FilingApplication(
            school=school,
            kind=kind,
            institution=institution,
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


def checked_evidence(upload) -> filetype.Type:
    """An evidence file (filing conditions, supervision findings): PDF, JPEG or PNG judged by its
    content, at most 10 MB. Returns the detected type."""
    if upload.size > EVIDENCE_MAX_BYTES:
        raise ValidationError(_("文件“%(name)s”超过 10 MB。") % {"name": upload.name})
    head = upload.read(2048)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in EVIDENCE_TYPES:
        raise ValidationError(
            _("文件“%(name)s”不是 PDF、JPEG 或 PNG（按文件内容判断，而非扩展名）。") % {"name": upload.name}
        )
    return kind


EVIDENCE_MAX_FILES = 10


def checked_evidence_files(uploads) -> tuple[list[filetype.Type], list[str]]:
    """Several evidence files at once (supervision findings, violation cases): each checked by
    ``checked_evidence``; at most ``EVIDENCE_MAX_FILES``. Returns (types, problems); the caller
    refuses the whole step when there is any problem."""
    problems: list[str] = []
    if len(uploads) > EVIDENCE_MAX_FILES:
        problems.append(_("一次最多上传%(n)s个证据文件。") % {"n": EVIDENCE_MAX_FILES})
    kinds = []
    for upload in uploads:
        try:
            kinds.append(checked_evidence(upload))
        except ValidationError as exc:
            problems.extend(exc.messages)
    return kinds, problems


def evidence_add(*, application: FilingApplication, actor: User, condition: int, upload) -> EvidenceFile:
    """Accepts PDF, JPEG or PNG, judged by the file's content, at most 10 MB."""
    kind = checked_evidence(upload)
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


# --- Work plan and assessment sites (annex §1.1 item 4, §4.2) ---------------------------------

WORK_PLAN_MAX_BYTES = 20 * 1024 * 1024


def work_plan_upload(*, application: FilingApplication, actor: User, upload) -> FilingApplication:
    """The school's work plan (工作方案) as a PDF, judged by its content; replaces an earlier one."""
    if upload.size > WORK_PLAN_MAX_BYTES:
        raise ValidationError(_("工作方案文件超过 20 MB。"))
    head = upload.read(2048)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime != "application/pdf":
        raise ValidationError(_("工作方案须为 PDF 文件（按文件内容判断）。请将方案导出为 PDF 后上传。"))
    with transaction.atomic():
        app = editable(application, actor)
        app.work_plan.save("work-plan.pdf", upload, save=False)
        app.work_plan_name = upload.name[:200]
        record(app, actor=actor, reason=stored(gettext_lazy("上传工作方案")))
        app.save(update_fields=["work_plan", "work_plan_name"])
    return app


def site_add(*, application: FilingApplication, actor: User, name: str, address: str) -> AssessmentSite:
    name, address = name.strip(), address.strip()
    if not name or not address:
        raise ValidationError(_("请填写考核站点名称和地址。"))
    with transaction.atomic():
        app = editable(application, actor)
        site = AssessmentSite(application=app, name=name, address=address)
        record(site, actor=actor, reason=stored(gettext_lazy("添加考核站点")))
        site.save()
    return site


def site_remove(*, site: AssessmentSite, actor: User) -> None:
    with transaction.atomic():
        editable(site.application, actor)
        for room in site.rooms.all():
            record(room, actor=actor, reason=stored(gettext_lazy("删除考核站点")))
            room.delete()
        record(site, actor=actor, reason=stored(gettext_lazy("删除考核站点")))
        site.delete()


def room_add(*, site: AssessmentSite, actor: User, name: str, capacity: int, av_monitoring: bool) -> ExamRoom:
    name = name.strip()
    if not name:
        raise ValidationError(_("请填写考场名称。"))
    if capacity < 1:
        raise ValidationError(_("考场容纳人数至少为1人。"))
    with transaction.atomic():
        editable(site.application, actor)
        if ExamRoom.objects.filter(site=site, name=name).exists():
            raise ValidationError(_("该站点已有名为“%(n)s”的考场。") % {"n": name})
        room = ExamRoom(site=site, name=name, capacity=capacity, av_monitoring=av_monitoring)
        record(room, actor=actor, reason=stored(gettext_lazy("添加考场")))
        room.save()
    return room


def room_remove(*, room: ExamRoom, actor: User) -> None:
    with transaction.atomic():
        editable(room.site.application, actor)
        record(room, actor=actor, reason=stored(gettext_lazy("删除考场")))
        room.delete()
