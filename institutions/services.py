"""Every write of the filing lifecycle. Only these functions assign a status.

Each transition locks the application row, checks the state against TRANSITIONS, checks the
actor's permission, validates, writes with ``update_fields``, records an ApplicationEvent and
the history reason with the acting user, and creates notifications that commit with it.
A wrong state raises TransitionError (shown as a message, HTTP 409); a missing permission
raises PermissionDenied (403).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import filetype
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from simple_history.utils import bulk_create_with_history

from institutions.models import (
    OPEN_STATUSES,
    VALIDITY_YEARS,
    ApplicationEvent,
    ApplicationKind,
    ApplicationStatus,
    AppliedOccupation,
    Condition,
    ConditionAnswer,
    Consent,
    ConsentBody,
    EvaluationBasis,
    EvaluationMethod,
    EvidenceFile,
    ExpertPanel,
    ExpiryReminder,
    FilingApplication,
    FilingReceipt,
    Finding,
    Institution,
    InstitutionOccupation,
    InstitutionStatus,
    PanelMember,
)
from portal.access import grant_object, revoke_object, users_with_roles
from portal.models import Occupation, Role, User
from portal.services import notify, record
from schools.models import Level, Major, School, SchoolType

EVALUATE_PERM = "institutions.evaluate_filingapplication"
EVIDENCE_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
REMINDER_DAYS = (90, 30, 7)


class TransitionError(Exception):
    """The application is not in a state that allows this step (or the step is incomplete)."""

    def __init__(self, messages: str | list[str]):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("；".join(self.messages))


S = ApplicationStatus


@dataclass(frozen=True)
class Transition:
    label: str
    sources: frozenset[str]
    roles: frozenset[str]
    needs_comment: bool = False
    style: str = "primary"


TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(gettext_lazy("提交申请"), frozenset({S.DRAFT, S.RETURNED}), frozenset({Role.SCHOOL_STAFF})),
    "withdraw": Transition(
        gettext_lazy("撤回申请"),
        frozenset({S.DRAFT, S.SUBMITTED, S.RETURNED}),
        frozenset({Role.SCHOOL_STAFF}),
        style="outline-danger",
    ),
    "return": Transition(
        pgettext_lazy("action", "退回修改"),
        frozenset({S.SUBMITTED}),
        frozenset({Role.COMMISSION_DEPT_OFFICER}),
        needs_comment=True,
        style="outline-warning",
    ),
    "accept": Transition(
        gettext_lazy("受理，进入技术评估"), frozenset({S.SUBMITTED}), frozenset({Role.COMMISSION_DEPT_OFFICER})
    ),
    "form_panel": Transition(
        gettext_lazy("组建或调整评估专家组"), frozenset({S.UNDER_EVALUATION}), frozenset({Role.CENTRE_REVIEWER})
    ),
    "record_findings": Transition(
        gettext_lazy("记录评估发现"), frozenset({S.UNDER_EVALUATION}), frozenset({Role.EXPERT})
    ),
    "declare_conflict": Transition(
        gettext_lazy("申报利益冲突并回避"),
        frozenset({S.UNDER_EVALUATION}),
        frozenset({Role.EXPERT}),
        needs_comment=True,
        style="outline-danger",
    ),
    "conclude": Transition(gettext_lazy("签署评估结论"), frozenset({S.UNDER_EVALUATION}), frozenset({Role.EXPERT})),
    "consent": Transition(
        gettext_lazy("备案确认意见"),
        frozenset({S.AWAITING_CONSENT}),
        frozenset({Role.MUNICIPAL_HR_OFFICER, Role.COMMISSION_OFFICER}),
    ),
    "confirm": Transition(
        gettext_lazy("报部备案并出具回执"), frozenset({S.CONSENTED}), frozenset({Role.CENTRE_REVIEWER})
    ),
}


# --- Who may act -----------------------------------------------------------------------


def _is_school_staff_of(user: User, school: School) -> bool:
    return user.has_role(Role.SCHOOL_STAFF) and user.organisation_id == school.organisation_id


def _panel_member(application: FilingApplication, user: User) -> PanelMember | None:
    panel = getattr(application, "panel", None)
    if panel is None or not user.has_role(Role.EXPERT):
        return None
    return next((m for m in panel.members.all() if m.expert_id == user.pk and not m.excluded), None)


def consent_body_of(user: User) -> str | None:
    if user.has_role(Role.MUNICIPAL_HR_OFFICER):
        return ConsentBody.MUNICIPAL_HR
    if user.has_role(Role.COMMISSION_OFFICER):
        return ConsentBody.COMMISSION
    return None


def may(action: str, application: FilingApplication, user: User) -> bool:
    """Whether ``user`` holds the right to take ``action`` on ``application`` (state aside)."""
    transition = TRANSITIONS[action]
    if not user.is_authenticated or not user.has_role(*transition.roles):
        return False
    if action in {"submit", "withdraw"}:
        return _is_school_staff_of(user, application.school)
    if action in {"record_findings", "declare_conflict"}:
        return _panel_member(application, user) is not None
    if action == "conclude":
        member = _panel_member(application, user)
        return member is not None and member.is_lead
    if action == "consent":
        body = consent_body_of(user)
        return body is not None and not any(c.body == body for c in application.consents.all())
    return True


def available_actions(application: FilingApplication, user: User) -> list[tuple[str, Transition]]:
    """The steps the page offers: the same check the services make."""
    return [
        (name, t) for name, t in TRANSITIONS.items() if application.status in t.sources and may(name, application, user)
    ]


def check_step(action: str, application: FilingApplication, actor: User) -> None:
    if not may(action, application, actor):
        raise PermissionDenied
    if application.status not in TRANSITIONS[action].sources:
        raise TransitionError(
            _("申请当前状态为“%(status)s”，不能执行“%(action)s”。")
            % {"status": application.get_status_display(), "action": TRANSITIONS[action].label}
        )


def _locked(application: FilingApplication) -> FilingApplication:
    return (
        FilingApplication.objects.select_for_update(of=("self",))
        .select_related("school__organisation")
        .get(pk=application.pk)
    )


def _move(app: FilingApplication, *, actor: User, action: str, to: str, comment: str = "", fields=()) -> None:
    from_status = app.status
    app.status = to
    record(
        app,
        actor=actor,
        reason=f"{TRANSITIONS[action].label if action in TRANSITIONS else action}：{comment}".rstrip("："),
    )
    app.save(update_fields=["status", *fields])
    ApplicationEvent.objects.create(
        application=app,
        action=action,
        from_status=from_status,
        to_status=to,
        round=app.round,
        actor=actor,
        comment=comment,
    )


def _note(app: FilingApplication, *, actor: User, action: str, comment: str = "") -> None:
    """Record a step that leaves the status as it is (panel changes, a first consent)."""
    ApplicationEvent.objects.create(
        application=app,
        action=action,
        from_status=app.status,
        to_status=app.status,
        round=app.round,
        actor=actor,
        comment=comment,
    )


def _link(app: FilingApplication) -> str:
    return reverse("institutions:application_detail", args=[app.pk])


def _school_staff(app: FilingApplication):
    return users_with_roles([Role.SCHOOL_STAFF], organisation=app.school.organisation)


def _tell(recipients: Iterable[User], app: FilingApplication, title: str, body: str = "") -> None:
    notify(recipients=list(recipients), title=f"{title}：{app.school.name}", body=body, link=_link(app))


# --- School: drafting ------------------------------------------------------------------


def application_create(*, school: School, actor: User, kind: str = ApplicationKind.INITIAL) -> FilingApplication:
    if not _is_school_staff_of(actor, school):
        raise PermissionDenied
    with transaction.atomic():
        School.objects.select_for_update().get(pk=school.pk)
        _refuse_second_open_application(school)
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
        record(app, actor=actor, reason=_("新建备案申请"))
        app.save()
        bulk_create_with_history(
            [ConditionAnswer(application=app, condition=c) for c in Condition.values],
            ConditionAnswer,
            default_user=actor,
            default_change_reason=_("新建备案申请"),
        )
    return app


def _refuse_second_open_application(school: School, *, exclude: int | None = None) -> None:
    others = FilingApplication.objects.filter(school=school, status__in=OPEN_STATUSES)
    if exclude:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise TransitionError(_("本校已有一份未办结的备案申请，同一时间只能有一份申请。"))


def _editable(application: FilingApplication, actor: User) -> FilingApplication:
    if not _is_school_staff_of(actor, application.school):
        raise PermissionDenied
    app = _locked(application)
    if not app.is_editable:
        raise TransitionError(_("申请已提交，不能修改；如需修改请等待退回或先撤回。"))
    return app


def application_update(*, application: FilingApplication, actor: User, contact_name: str, contact_phone: str) -> None:
    with transaction.atomic():
        app = _editable(application, actor)
        app.contact_name, app.contact_phone = contact_name, contact_phone
        record(app, actor=actor, reason=_("修改联系人"))
        app.save(update_fields=["contact_name", "contact_phone"])


def condition_answer_save(
    *, application: FilingApplication, actor: User, condition: int, statement: str
) -> ConditionAnswer:
    with transaction.atomic():
        app = _editable(application, actor)
        answer = ConditionAnswer.objects.select_for_update().get(application=app, condition=condition)
        answer.statement = statement.strip()
        record(answer, actor=actor, reason=_("填写条件说明"))
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
        app = _editable(application, actor)
        answer = ConditionAnswer.objects.get(application=app, condition=condition)
        evidence = EvidenceFile(
            answer=answer,
            original_name=upload.name[:200],
            content_type=kind.mime,
            size=upload.size,
            uploaded_by=actor,
        )
        evidence.file.save(f"{kind.extension}.{kind.extension}", upload, save=False)
        record(evidence, actor=actor, reason=_("上传佐证材料"))
        evidence.save()
    return evidence


def evidence_remove(*, evidence: EvidenceFile, actor: User) -> None:
    with transaction.atomic():
        _editable(evidence.answer.application, actor)
        record(evidence, actor=actor, reason=_("删除佐证材料"))
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
        app = _editable(application, actor)
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
        record(applied, actor=actor, reason=_("添加申报职业（工种）"))
        try:
            with transaction.atomic():
                applied.save()
        except IntegrityError:
            raise ValidationError(_("该职业（工种）已在申请中。")) from None
        applied.majors.set(majors)
    return applied


def occupation_remove(*, applied: AppliedOccupation, actor: User) -> None:
    with transaction.atomic():
        _editable(applied.application, actor)
        record(applied, actor=actor, reason=_("删除申报职业（工种）"))
        applied.delete()


# --- Rules checked on submit (annex §1) ------------------------------------------------


def submission_problems(app: FilingApplication) -> list[str]:
    """Everything that stops ``app`` from being submitted, each as a message for the school."""
    problems: list[str] = []
    school = app.school
    cap = school.level_cap
    type_label = school.get_school_type_display()
    if school.school_type == SchoolType.SECONDARY and not school.has_through_programme:
        problems.append(_("中等职业学校须开设贯通培养专业才能申请备案（附件第一条第（一）项第1目）。"))
    try:
        _refuse_second_open_application(school, exclude=app.pk)
    except TransitionError as exc:
        problems.extend(exc.messages)
    if app.kind == ApplicationKind.ADD_OCCUPATION and (
        app.institution is None or app.institution.status != InstitutionStatus.ACTIVE
    ):
        problems.append(_("只有目录中有效的评价机构才能申请增加职业（工种）。"))
    for answer in app.answers.all():
        label = _("条件%(n)s") % {"n": answer.condition}
        if not answer.statement:
            problems.append(_("%(c)s：请填写情况说明。") % {"c": label})
        if not answer.evidence.all():
            problems.append(_("%(c)s：请上传至少一份佐证材料。") % {"c": label})
    applied = list(app.occupations.all())
    if not applied:
        problems.append(_("请至少申报一个职业（工种）。"))
    filed = set()
    if app.institution_id:
        filed = set(
            app.institution.occupations.exclude(status=InstitutionStatus.REMOVED).values_list(
                "occupation_id", flat=True
            )
        )
    for item in applied:
        occ, name = item.occupation, f"「{item.occupation}」"
        if occ.is_access_type:
            problems.append(_("%(o)s属于准入类职业资格，不能列入评价范围。") % {"o": name})
        elif occ.kind != "skill" or not occ.is_active:
            problems.append(_("%(o)s不是技能类职业（工种），不能列入评价范围。") % {"o": name})
        if item.highest_level < cap:
            problems.append(
                _("%(o)s最高等级%(level)s超出%(type)s可评价的最高等级（%(cap)s）。")
                % {"o": name, "level": Level(item.highest_level).label, "type": type_label, "cap": Level(cap).label}
            )
        majors = [m for m in item.majors.all() if m.is_active and m.school_id == school.pk]
        if not majors:
            problems.append(_("%(o)s没有对应的在办专业。") % {"o": name})
        if item.basis == EvaluationBasis.NATIONAL_STANDARD and not occ.has_national_standard:
            problems.append(_("%(o)s尚未颁布国家职业技能标准，应选择已备案的评价规范作为评价依据。") % {"o": name})
        if item.basis == EvaluationBasis.SPECIFICATION and not item.specification_ref:
            problems.append(_("%(o)s以评价规范为依据的，须填写评价规范的备案文号。") % {"o": name})
        if occ.pk in filed:
            problems.append(_("%(o)s已在本机构的备案目录中。") % {"o": name})
    return problems


def _prefetched(app_id: int) -> FilingApplication:
    return (
        FilingApplication.objects.select_related("school__organisation", "institution")
        .prefetch_related("answers__evidence", "occupations__occupation", "occupations__majors")
        .get(pk=app_id)
    )


def application_submit(*, application: FilingApplication, actor: User) -> FilingApplication:
    with transaction.atomic():
        app = _locked(application)
        check_step("submit", app, actor)
        School.objects.select_for_update().get(pk=app.school_id)
        problems = submission_problems(_prefetched(app.pk))
        if problems:
            raise TransitionError(problems)
        resubmission = app.status == S.RETURNED
        app.round += 1
        app.submitted_at = timezone.now()
        _move(app, actor=actor, action="submit", to=S.SUBMITTED, fields=("round", "submitted_at"))
        _tell(
            users_with_roles([Role.COMMISSION_DEPT_OFFICER]),
            app,
            _("备案申请已重新提交，请受理") if resubmission else _("新的备案申请待受理"),
        )
    return app


def application_withdraw(*, application: FilingApplication, actor: User, comment: str = "") -> FilingApplication:
    with transaction.atomic():
        app = _locked(application)
        check_step("withdraw", app, actor)
        was_submitted = app.status != S.DRAFT
        _move(app, actor=actor, action="withdraw", to=S.WITHDRAWN, comment=comment)
        if was_submitted:
            _tell(users_with_roles([Role.COMMISSION_DEPT_OFFICER]), app, _("备案申请已被学校撤回"), comment)
    return app


def application_return(*, application: FilingApplication, actor: User, comment: str) -> FilingApplication:
    if not comment.strip():
        raise ValidationError(_("退回修改须写明需要补正的内容。"))
    with transaction.atomic():
        app = _locked(application)
        check_step("return", app, actor)
        _move(app, actor=actor, action="return", to=S.RETURNED, comment=comment.strip())
        _tell(_school_staff(app), app, _("备案申请被退回修改"), comment)
    return app


def application_accept(*, application: FilingApplication, actor: User, comment: str = "") -> FilingApplication:
    with transaction.atomic():
        app = _locked(application)
        check_step("accept", app, actor)
        _move(app, actor=actor, action="accept", to=S.UNDER_EVALUATION, comment=comment)
        _tell(users_with_roles([Role.CENTRE_REVIEWER]), app, _("备案申请已受理，请组织技术评估"))
        _tell(_school_staff(app), app, _("备案申请已受理，进入技术评估"))
    return app


# --- Technical evaluation ---------------------------------------------------------------


def panel_form(*, application: FilingApplication, actor: User, experts: list[User], lead: User) -> ExpertPanel:
    """Form the panel, or re-form it (add experts, name a new lead) until its conclusion is signed.

    Experts who declared a conflict stay excluded; experts dropped from the panel lose access.
    """
    experts = list({e.pk: e for e in experts}.values())
    if lead.pk not in {e.pk for e in experts}:
        raise ValidationError(_("组长须是专家组成员。"))
    if len(experts) < 3 or len(experts) % 2 == 0:
        raise ValidationError(_("专家组应由3人及以上单数专家组成。"))
    if any(not e.has_role(Role.EXPERT) or not e.is_active for e in experts):
        raise ValidationError(_("只能选择专家库中的在册专家。"))
    with transaction.atomic():
        app = _locked(application)
        check_step("form_panel", app, actor)
        panel = ExpertPanel.objects.select_for_update().filter(application=app).first()
        reforming = panel is not None
        reason = _("调整评估专家组") if reforming else _("组建评估专家组")
        if panel is None:
            panel = ExpertPanel(application=app, formed_by=actor)
            record(panel, actor=actor, reason=reason)
            panel.save()
        elif panel.conclusion:
            raise TransitionError(_("评估结论已签署，不能调整专家组。"))
        members = {m.expert_id: m for m in panel.members.select_for_update()}
        if any(members[e.pk].excluded for e in experts if e.pk in members):
            raise ValidationError(_("已申报利益冲突回避的专家不能再参加本次评估。"))
        wanted = {e.pk for e in experts}
        for expert_id, member in members.items():
            if expert_id not in wanted and not member.excluded:
                record(member, actor=actor, reason=reason)
                member.delete()
                revoke_object(member.expert, EVALUATE_PERM, app)
        new = []
        for expert in experts:
            member = members.get(expert.pk) or PanelMember(panel=panel, expert=expert)
            if member.pk is None:
                new.append(expert)
            member.is_lead = expert.pk == lead.pk
            record(member, actor=actor, reason=reason)
            member.save()
            grant_object(expert, EVALUATE_PERM, app)
        _note(
            app,
            actor=actor,
            action="form_panel",
            comment=_("组长：%(lead)s；成员：%(all)s") % {"lead": lead, "all": "、".join(str(e) for e in experts)},
        )
        _tell(new, app, _("您已受邀参加评价机构备案技术评估"))
    return panel


def panel_declare_conflict(*, application: FilingApplication, actor: User, note: str) -> PanelMember:
    """An expert who declares a conflict of interest is excluded and loses access to the file."""
    if not note.strip():
        raise ValidationError(_("请说明利益冲突的情形。"))
    with transaction.atomic():
        app = _locked(application)
        check_step("declare_conflict", app, actor)
        member = PanelMember.objects.select_for_update().get(panel__application=app, expert=actor)
        member.excluded, member.conflict_note = True, note.strip()
        was_lead, member.is_lead = member.is_lead, False
        record(member, actor=actor, reason=_("申报利益冲突并回避"))
        member.save(update_fields=["excluded", "conflict_note", "is_lead"])
        revoke_object(actor, EVALUATE_PERM, app)
        _note(app, actor=actor, action="declare_conflict", comment=note.strip())
        body = _("组长已回避，请重新指定组长并补充专家。") if was_lead else _("请视情况补充专家。")
        _tell(users_with_roles([Role.CENTRE_REVIEWER]), app, _("评估专家申报利益冲突并回避"), body)
    return member


def finding_record(
    *, application: FilingApplication, actor: User, condition: int, method: str, satisfied: bool, text: str
) -> Finding:
    if condition not in Condition.values or method not in EvaluationMethod.values:
        raise ValidationError(_("条件或评估方式无效。"))
    if not text.strip():
        raise ValidationError(_("请填写评估发现。"))
    with transaction.atomic():
        app = _locked(application)
        check_step("record_findings", app, actor)
        panel = app.panel
        if panel.conclusion:
            raise TransitionError(_("评估结论已签署，不能再修改评估发现。"))
        finding, _created = Finding.objects.get_or_create(
            panel=panel,
            condition=condition,
            method=method,
            defaults={"satisfied": satisfied, "text": text.strip(), "recorded_by": actor},
        )
        if not _created:
            finding.satisfied, finding.text, finding.recorded_by = satisfied, text.strip(), actor
            record(finding, actor=actor, reason=_("修改评估发现"))
            finding.save(update_fields=["satisfied", "text", "recorded_by", "recorded_at"])
    return finding


def findings_record(*, application: FilingApplication, actor: User, rows: list[tuple[int, str, bool, str]]) -> int:
    """A page of findings (condition, method, satisfied, text), saved together or not at all."""
    with transaction.atomic():
        for condition, method, satisfied, text in rows:
            finding_record(
                application=application, actor=actor, condition=condition, method=method, satisfied=satisfied, text=text
            )
    return len(rows)


def missing_findings(panel: ExpertPanel) -> list[tuple[int, str]]:
    done = set(panel.findings.values_list("condition", "method"))
    return [(c, m) for c in Condition.values for m in EvaluationMethod.values if (c, m) not in done]


def panel_conclude(*, application: FilingApplication, actor: User, passed: bool, opinion: str) -> ExpertPanel:
    if not opinion.strip():
        raise ValidationError(_("请填写专家组评估意见。"))
    with transaction.atomic():
        app = _locked(application)
        check_step("conclude", app, actor)
        panel = ExpertPanel.objects.select_for_update().get(application=app)
        missing = missing_findings(panel)
        if missing:
            raise TransitionError(
                _("还有%(n)s项评估发现未记录（六项条件 × 五种评估方式均须记录）。") % {"n": len(missing)}
            )
        panel.conclusion = "pass" if passed else "fail"
        panel.opinion, panel.signed_by, panel.signed_at = opinion.strip(), actor, timezone.now()
        record(panel, actor=actor, reason=_("签署评估结论"))
        panel.save(update_fields=["conclusion", "opinion", "signed_by", "signed_at"])
        to = S.AWAITING_CONSENT if passed else S.EVALUATION_FAILED
        _move(app, actor=actor, action="conclude", to=to, comment=opinion.strip())
        if passed:
            _tell(
                users_with_roles([Role.MUNICIPAL_HR_OFFICER, Role.COMMISSION_OFFICER]),
                app,
                _("技术评估通过，请出具备案确认意见"),
            )
            _tell(_school_staff(app), app, _("技术评估通过，等待备案确认"))
        else:
            _tell([*_school_staff(app), *users_with_roles([Role.CENTRE_REVIEWER])], app, _("技术评估未通过"), opinion)
    return panel


# --- Filing confirmation ---------------------------------------------------------------


def consent_record(*, application: FilingApplication, actor: User, agreed: bool, comment: str = "") -> Consent:
    if not agreed and not comment.strip():
        raise ValidationError(_("不同意备案须写明理由。"))
    with transaction.atomic():
        app = _locked(application)
        check_step("consent", app, actor)
        consent = Consent(
            application=app, body=consent_body_of(actor), agreed=agreed, comment=comment.strip(), decided_by=actor
        )
        record(consent, actor=actor, reason=_("出具备案确认意见"))
        consent.save()
        decisions = {c.body: c.agreed for c in app.consents.all()}
        if not agreed:
            _move(app, actor=actor, action="consent", to=S.REFUSED, comment=comment.strip())
            _tell(
                [*_school_staff(app), *users_with_roles([Role.CENTRE_REVIEWER, Role.COMMISSION_DEPT_OFFICER])],
                app,
                _("备案未获同意"),
                comment,
            )
        elif len(decisions) == len(ConsentBody.values) and all(decisions.values()):
            _move(app, actor=actor, action="consent", to=S.CONSENTED, comment=comment.strip())
            _tell(users_with_roles([Role.CENTRE_REVIEWER]), app, _("市人社局、市教委均已同意，请报部备案并出具回执"))
        else:
            _note(app, actor=actor, action="consent", comment=comment.strip())
    return consent


def next_site_sequence() -> str:
    top = Institution.objects.aggregate(m=Max("site_sequence"))["m"]
    return f"{int(top or 0) + 1:06d}"


def next_receipt_number(year: int) -> str:
    prefix = f"沪职鉴备〔{year}〕"
    count = FilingReceipt.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:03d}号"


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def validity_end(start: dt.date) -> dt.date:
    """Valid for 3 years from confirmation: the day before the third anniversary."""
    return add_years(start, VALIDITY_YEARS) - dt.timedelta(days=1)


def filing_confirm(
    *,
    application: FilingApplication,
    actor: User,
    ministry_report_ref: str,
    ministry_reported_on: dt.date,
    category_letter: str = "S",
    ministry_code: str = "0000",
    site_sequence: str = "",
) -> FilingReceipt:
    """Record the report to the ministry, assign codes, list the institution and issue the receipt."""
    category_letter = category_letter.strip().upper()
    if not (len(category_letter) == 1 and category_letter.isascii() and category_letter.isalpha()):
        raise ValidationError(_("机构类别应为一个大写英文字母。"))
    if not (len(ministry_code) == 4 and ministry_code.isdigit()):
        raise ValidationError(_("部级机构代码应为4位数字（在本省备案的为0000）。"))
    if site_sequence and not (len(site_sequence) == 6 and site_sequence.isdigit()):
        raise ValidationError(_("机构（站点）序号应为6位数字。"))
    if not ministry_report_ref.strip():
        raise ValidationError(_("请填写报部备案文号。"))
    today = timezone.localdate()
    with transaction.atomic():
        app = _locked(application)
        check_step("confirm", app, actor)
        app = _prefetched(app.pk)
        end = validity_end(today)
        if app.kind == ApplicationKind.ADD_OCCUPATION:
            institution = Institution.objects.select_for_update().get(pk=app.institution_id)
        else:
            institution = Institution(
                school=app.school,
                category_letter=category_letter,
                ministry_code=ministry_code,
                site_sequence=site_sequence or next_site_sequence(),
                confirmed_on=today,
                valid_until=end,
            )
            record(institution, actor=actor, reason=_("备案确认，列入目录"))
            try:
                with transaction.atomic():
                    institution.save()
            except IntegrityError:
                raise ValidationError(_("该机构代码已被使用，请更换机构（站点）序号。")) from None
        for item in app.occupations.all():
            row = InstitutionOccupation(
                institution=institution,
                occupation=item.occupation,
                lowest_level=item.lowest_level,
                highest_level=item.highest_level,
                basis=item.basis,
                specification_ref=item.specification_ref,
                confirmed_on=today,
                valid_until=end,
                application=app,
            )
            record(row, actor=actor, reason=_("备案确认，列入目录"))
            row.save()
        app.ministry_report_ref = ministry_report_ref.strip()
        app.ministry_reported_on = ministry_reported_on
        app.filed_at = timezone.now()
        app.institution = institution
        _move(
            app,
            actor=actor,
            action="confirm",
            to=S.FILED,
            comment=ministry_report_ref.strip(),
            fields=("ministry_report_ref", "ministry_reported_on", "filed_at", "institution"),
        )
        receipt = FilingReceipt(
            application=app,
            institution=institution,
            number=next_receipt_number(today.year),
            issued_at=timezone.now(),
            issued_by=actor,
        )
        from institutions.pdf import render_receipt

        receipt.pdf.save(f"receipt-{app.pk}.pdf", ContentFile(render_receipt(receipt)), save=False)
        record(receipt, actor=actor, reason=_("出具备案回执"))
        receipt.save()
        district_officers = users_with_roles([Role.DISTRICT_HR_OFFICER]).filter(
            organisation__district_id=app.school.organisation.district_id
        )
        _tell(
            [*_school_staff(app), *users_with_roles([Role.COMMISSION_DEPT_OFFICER]), *district_officers],
            app,
            _("已备案并列入评价机构目录，备案回执已出具"),
            receipt.number,
        )
    return receipt


# --- Directory management --------------------------------------------------------------


# Which directory statuses each registry action starts from; the registry page offers the same.
DIRECTORY_SOURCES: dict[str, frozenset[str]] = {
    "suspend": frozenset({InstitutionStatus.ACTIVE}),
    "restore": frozenset({InstitutionStatus.SUSPENDED}),
    "remove": frozenset({InstitutionStatus.ACTIVE, InstitutionStatus.SUSPENDED, InstitutionStatus.EXPIRED}),
    "renew": frozenset({InstitutionStatus.ACTIVE, InstitutionStatus.EXPIRED}),
}


def _directory_change(
    institution: Institution, actor: User, *, action: str, to: str, reason: str, label: str
) -> Institution:
    if not actor.has_role(Role.CENTRE_REVIEWER):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError(_("请填写原因（将在目录中公开）。"))
    with transaction.atomic():
        inst = Institution.objects.select_for_update().select_related("school__organisation").get(pk=institution.pk)
        allowed = DIRECTORY_SOURCES[action]
        if inst.status not in allowed:
            raise TransitionError(
                _("机构当前状态为“%(s)s”，不能%(a)s。") % {"s": inst.get_status_display(), "a": label}
            )
        inst.status, inst.status_reason = to, reason.strip()
        record(inst, actor=actor, reason=f"{label}：{reason.strip()}")
        inst.save(update_fields=["status", "status_reason"])
        notify(
            recipients=users_with_roles([Role.SCHOOL_STAFF], organisation=inst.school.organisation),
            title=_("评价机构目录变更：%(a)s") % {"a": label},
            body=reason.strip(),
            link=reverse("directory_detail", args=[inst.pk]),
        )
    return inst


def institution_suspend(*, institution: Institution, actor: User, reason: str) -> Institution:
    return _directory_change(
        institution,
        actor,
        action="suspend",
        to=InstitutionStatus.SUSPENDED,
        reason=reason,
        label=pgettext("action", "暂停"),
    )


def institution_restore(*, institution: Institution, actor: User, reason: str) -> Institution:
    return _directory_change(
        institution, actor, action="restore", to=InstitutionStatus.ACTIVE, reason=reason, label=_("恢复")
    )


def institution_remove(*, institution: Institution, actor: User, reason: str) -> Institution:
    return _directory_change(
        institution, actor, action="remove", to=InstitutionStatus.REMOVED, reason=reason, label=_("移出目录")
    )


def institution_renew(*, institution: Institution, actor: User, reason: str) -> Institution:
    """Extends the institution and its current occupations by 3 years from today (after review)."""
    if not actor.has_role(Role.CENTRE_REVIEWER):
        raise PermissionDenied
    if not reason.strip():
        raise ValidationError(_("请填写延续备案的依据。"))
    today = timezone.localdate()
    with transaction.atomic():
        inst = Institution.objects.select_for_update().select_related("school__organisation").get(pk=institution.pk)
        if inst.status not in DIRECTORY_SOURCES["renew"]:
            raise TransitionError(_("暂停或已移出目录的机构不能延续。"))
        end = validity_end(today)
        inst.status, inst.status_reason, inst.valid_until = InstitutionStatus.ACTIVE, reason.strip(), end
        record(inst, actor=actor, reason=_("延续备案：%(r)s") % {"r": reason.strip()})
        inst.save(update_fields=["status", "status_reason", "valid_until"])
        for row in inst.occupations.exclude(status=InstitutionStatus.REMOVED).exclude(
            status=InstitutionStatus.SUSPENDED
        ):
            row.status, row.valid_until = InstitutionStatus.ACTIVE, end
            record(row, actor=actor, reason=_("延续备案"))
            row.save(update_fields=["status", "valid_until"])
        notify(
            recipients=users_with_roles([Role.SCHOOL_STAFF], organisation=inst.school.organisation),
            title=_("评价机构备案已延续至%(d)s") % {"d": end.isoformat()},
            link=reverse("directory_detail", args=[inst.pk]),
        )
    return inst


# --- Expiry (Celery beat, daily) -------------------------------------------------------


def _expire(queryset, today: dt.date) -> int:
    """Expire each row whose validity ended before ``today``, under a row lock, with history."""
    count = 0
    for pk in queryset.filter(status=InstitutionStatus.ACTIVE, valid_until__lt=today).values_list("pk", flat=True):
        with transaction.atomic():
            row = queryset.select_for_update().filter(pk=pk, status=InstitutionStatus.ACTIVE).first()
            if row is None:  # another run got there first
                continue
            row.status = InstitutionStatus.EXPIRED
            fields = ["status"]
            if isinstance(row, Institution):
                row.status_reason = _("有效期届满")
                fields.append("status_reason")
            record(row, actor=None, reason=_("有效期届满，自动过期"))
            row.save(update_fields=fields)
            count += 1
    return count


def expiry_run(*, today: dt.date) -> dict:
    """Send the 90/30/7-day reminders and expire what ended before ``today``. Idempotent.

    Every change is a conditional update or a unique reminder row: a second run on the same
    day changes nothing and notifies nobody.
    """
    expired_institutions = _expire(Institution.objects.all(), today)
    expired_occupations = _expire(InstitutionOccupation.objects.all(), today)
    reminders = 0
    centre = list(users_with_roles([Role.CENTRE_REVIEWER]))
    for days in REMINDER_DAYS:
        horizon = today + dt.timedelta(days=days)
        due = Institution.objects.filter(
            status=InstitutionStatus.ACTIVE, valid_until__gt=today, valid_until__lte=horizon
        ).select_related("school__organisation")
        for inst in due:
            # Only the nearest threshold not yet passed: 100 days out gets nothing, 25 days out the 30-day one.
            nearest = min(d for d in REMINDER_DAYS if (inst.valid_until - today).days <= d)
            if nearest != days:
                continue
            with transaction.atomic():
                _reminder, created = ExpiryReminder.objects.get_or_create(
                    institution=inst, valid_until=inst.valid_until, days_before=days
                )
                if not created:
                    continue
                notify(
                    recipients=[*users_with_roles([Role.SCHOOL_STAFF], organisation=inst.school.organisation), *centre],
                    title=_("评价机构备案将于%(d)s到期（剩余%(n)s天）：%(s)s")
                    % {"d": inst.valid_until.isoformat(), "n": (inst.valid_until - today).days, "s": inst.name},
                    body=_("到期后不能再安排评价计划；如需继续开展认定，请及时申请延续。"),
                    link=reverse("directory_detail", args=[inst.pk]),
                )
                reminders += 1
    return {
        "expired_institutions": expired_institutions,
        "expired_occupations": expired_occupations,
        "reminders": reminders,
    }
