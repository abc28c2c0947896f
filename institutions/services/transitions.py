"""Every status change of a filing application (notice annex §3.1–3.3), on the workflow core.

Each step: ``APPLICATION.step`` (atomic, row locked, right → 403, state/guard → 409), then the
step's own validation and writes, ``APPLICATION.move`` or ``.note`` (status with
``update_fields``, history with the acting user, an event row), and notifications that commit
with the step. Documents are rendered after commit (``documents``).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions.models import (
    DECLARATION_TEXT,
    VALIDITY_YEARS,
    ApplicationKind,
    AssessmentSite,
    Condition,
    Consent,
    ConsentBody,
    EvaluationMethod,
    ExpertPanel,
    FilingApplication,
    FilingReceipt,
    Finding,
    Institution,
    InstitutionOccupation,
    InstitutionStatus,
    OccupationJudgement,
    PanelConclusion,
    PanelMember,
)
from institutions.services import numbering
from institutions.services.notices import role_holders, school_staff, tell
from institutions.services.rules import submission_problems
from institutions.services.workflow import APPLICATION, DIRECTORY, EVALUATE_PERM, consent_body_of
from institutions.services.workflow import A as Action
from institutions.services.workflow import S as Status
from portal.access import grant_object, revoke_object, users_with_roles
from portal.i18n import stored
from portal.models import Role, User
from portal.queue import enqueue_on_commit
from portal.services import record
from portal.workflow import TransitionError
from schools.models import School


def _prefetched(app_id: int) -> FilingApplication:
    return (
        FilingApplication.objects.select_related("school__organisation", "institution")
        .prefetch_related("answers__evidence", "occupations__occupation", "occupations__majors")
        .get(pk=app_id)
    )


# --- School -----------------------------------------------------------------------------


def application_submit(*, application: FilingApplication, actor: User, declared: bool = False) -> FilingApplication:
    """Submit for intake. ``declared``: the school answers for its material (annex §3.1), recorded."""
    with APPLICATION.step(Action.SUBMIT, application, actor) as app:
        School.objects.select_for_update().get(pk=app.school_id)
        problems = submission_problems(_prefetched(app.pk))
        if problems:
            raise TransitionError(problems)
        if not declared:
            raise ValidationError(_("提交前须声明：%(text)s（附件第三条第（一）项）") % {"text": _(DECLARATION_TEXT)})
        resubmission = app.status == Status.RETURNED
        app.round += 1
        app.submitted_at = app.declared_at = timezone.now()
        app.declared_by = actor
        APPLICATION.move(
            app, Action.SUBMIT, actor=actor, fields=("round", "submitted_at", "declared_by", "declared_at")
        )
        tell(
            role_holders(Role.COMMISSION_DEPT_OFFICER),
            app,
            gettext_lazy("备案申请已重新提交，请受理") if resubmission else gettext_lazy("新的备案申请待受理"),
        )
    return app


def application_withdraw(*, application: FilingApplication, actor: User, comment: str = "") -> FilingApplication:
    with APPLICATION.step(Action.WITHDRAW, application, actor) as app:
        was_submitted = app.status != Status.DRAFT
        APPLICATION.move(app, Action.WITHDRAW, actor=actor, comment=comment.strip())
        if was_submitted:
            tell(role_holders(Role.COMMISSION_DEPT_OFFICER), app, gettext_lazy("备案申请已被学校撤回"), comment)
    return app


# --- Intake (commission's department) ---------------------------------------------------


def application_return(*, application: FilingApplication, actor: User, comment: str) -> FilingApplication:
    if not comment.strip():
        raise ValidationError(_("退回修改须写明需要补正的内容。"))
    with APPLICATION.step(Action.RETURN, application, actor) as app:
        APPLICATION.move(app, Action.RETURN, actor=actor, comment=comment.strip())
        tell(school_staff(app.school), app, gettext_lazy("备案申请被退回修改"), comment)
    return app


def application_accept(*, application: FilingApplication, actor: User, comment: str = "") -> FilingApplication:
    with APPLICATION.step(Action.ACCEPT, application, actor) as app:
        APPLICATION.move(app, Action.ACCEPT, actor=actor, comment=comment.strip())
        tell(role_holders(Role.CENTRE_REVIEWER), app, gettext_lazy("备案申请已受理，请组织技术评估"))
        tell(school_staff(app.school), app, gettext_lazy("备案申请已受理，进入技术评估"))
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
    with APPLICATION.step(Action.FORM_PANEL, application, actor) as app:
        panel = ExpertPanel.objects.select_for_update().filter(application=app).first()
        reforming = panel is not None
        reason = stored(gettext_lazy("调整评估专家组") if reforming else gettext_lazy("组建评估专家组"))
        if panel is None:
            panel = ExpertPanel(application=app, formed_by=actor)
            record(panel, actor=actor, reason=reason)
            panel.save()
        elif panel.is_agreed:  # a changed panel is agreed again (annex §3.2: organised together)
            panel.agreed_by, panel.agreed_at, panel.formed_by = None, None, actor
            record(panel, actor=actor, reason=reason)
            panel.save(update_fields=["agreed_by", "agreed_at", "formed_by"])
        members = {m.expert_id: m for m in panel.members.select_for_update()}
        if any(members[e.pk].excluded for e in experts if e.pk in members):
            raise ValidationError(_("已申报利益冲突回避的专家不能再参加本次评估。"))
        wanted = {e.pk for e in experts}
        for expert_id, member in members.items():
            if expert_id not in wanted and not member.excluded:
                record(member, actor=actor, reason=reason)
                member.delete()
                revoke_object(member.expert, EVALUATE_PERM, app)
        # The old lead steps down before the new one is named: one lead per panel (a constraint).
        for member in members.values():
            if member.pk and member.is_lead and member.expert_id != lead.pk and member.expert_id in wanted:
                member.is_lead = False
                record(member, actor=actor, reason=reason)
                member.save(update_fields=["is_lead"])
        new = []
        for expert in sorted(experts, key=lambda e: e.pk == lead.pk):
            member = members.get(expert.pk) or PanelMember(panel=panel, expert=expert)
            if member.pk is None:
                new.append(expert)
            member.is_lead = expert.pk == lead.pk
            record(member, actor=actor, reason=reason)
            member.save()
            grant_object(expert, EVALUATE_PERM, app)
        APPLICATION.note(
            app,
            Action.FORM_PANEL,
            actor=actor,
            comment=stored(
                gettext_lazy("组长：%(lead)s；成员：%(all)s"), lead=str(lead), all="、".join(str(e) for e in experts)
            ),
        )
        tell(
            role_holders(Role.COMMISSION_DEPT_OFFICER),
            app,
            gettext_lazy("市职鉴中心已提出评估专家组，请会同确认"),
        )
    return panel


def panel_agree(*, application: FilingApplication, actor: User, comment: str = "") -> ExpertPanel:
    """The commission's department agrees to the panel the centre proposed; the experts may then start."""
    with APPLICATION.step(Action.AGREE_PANEL, application, actor) as app:
        panel = ExpertPanel.objects.select_for_update().get(application=app)
        panel.agreed_by, panel.agreed_at = actor, timezone.now()
        record(panel, actor=actor, reason=stored(gettext_lazy("会同确认评估专家组")))
        panel.save(update_fields=["agreed_by", "agreed_at"])
        APPLICATION.note(app, Action.AGREE_PANEL, actor=actor, comment=comment.strip())
        members = [m.expert for m in panel.members.select_related("expert") if not m.excluded]
        tell(members, app, gettext_lazy("您已受邀参加评价机构备案技术评估"))
        tell(role_holders(Role.CENTRE_REVIEWER), app, gettext_lazy("评估专家组已会同确认"), comment)
    return panel


def panel_declare_conflict(*, application: FilingApplication, actor: User, note: str) -> PanelMember:
    """An expert who declares a conflict of interest is excluded and loses access to the file."""
    if not note.strip():
        raise ValidationError(_("请说明利益冲突的情形。"))
    with APPLICATION.step(Action.DECLARE_CONFLICT, application, actor) as app:
        member = PanelMember.objects.select_for_update().get(panel__application=app, expert=actor)
        member.excluded, member.conflict_note = True, note.strip()
        was_lead, member.is_lead = member.is_lead, False
        record(member, actor=actor, reason=stored(gettext_lazy("申报利益冲突并回避")))
        member.save(update_fields=["excluded", "conflict_note", "is_lead"])
        revoke_object(actor, EVALUATE_PERM, app)
        APPLICATION.note(app, Action.DECLARE_CONFLICT, actor=actor, comment=note.strip())
        body = (
            gettext_lazy("组长已回避，请重新指定组长并补充专家。") if was_lead else gettext_lazy("请视情况补充专家。")
        )
        tell(role_holders(Role.CENTRE_REVIEWER), app, gettext_lazy("评估专家申报利益冲突并回避"), body)
    return member


def findings_record(
    *,
    application: FilingApplication,
    actor: User,
    conditions: list[tuple[int, list[str], bool, str]],
    occupations: list[tuple[int, bool, str]] = (),
) -> int:
    """An expert's own findings, saved together or not at all (annex §3.2).

    ``conditions``: (condition, methods used, met, remarks); the methods are the means the expert
    used (文件审核、资料核验、专家论证、质询答辩、现场考察等方式), at least one.
    ``occupations``: (applied occupation id, sound, remarks): is the occupation, with its
    corresponding major, sound.
    """
    with APPLICATION.step(Action.RECORD_FINDINGS, application, actor) as app:
        panel = app.panel
        reason = stored(gettext_lazy("记录评估发现"))
        for condition, methods, met, remarks in conditions:
            if condition not in Condition.values:
                raise ValidationError(_("条件无效。"))
            label = _("条件%(n)s") % {"n": condition}
            methods = [m for m in EvaluationMethod.values if m in set(methods)]
            if not methods:
                raise ValidationError(_("%(c)s：请至少选择一种评估方式。") % {"c": label})
            if not remarks.strip():
                raise ValidationError(_("%(c)s：请填写评估意见。") % {"c": label})
            finding = Finding.objects.filter(panel=panel, expert=actor, condition=condition).first()
            finding = finding or Finding(panel=panel, expert=actor, condition=condition)
            finding.methods, finding.met, finding.remarks = methods, met, remarks.strip()
            record(finding, actor=actor, reason=reason)
            finding.save()
        applied = {a.pk: a for a in app.occupations.select_related("occupation")}
        for applied_id, sound, remarks in occupations:
            if applied_id not in applied:
                raise ValidationError(_("申报职业（工种）无效。"))
            if not sound and not remarks.strip():
                raise ValidationError(
                    _("「%(o)s」：判断不合理的，请写明理由。") % {"o": applied[applied_id].occupation}
                )
            judgement = OccupationJudgement.objects.filter(panel=panel, expert=actor, applied_id=applied_id).first()
            judgement = judgement or OccupationJudgement(panel=panel, expert=actor, applied_id=applied_id)
            judgement.sound, judgement.remarks = sound, remarks.strip()
            record(judgement, actor=actor, reason=reason)
            judgement.save()
    return len(conditions) + len(occupations)


def evaluation_gaps(app: FilingApplication) -> list[str]:
    """What the panel has not yet judged: a condition or an occupation without any finding."""
    panel = app.panel
    judged = set(panel.findings.values_list("condition", flat=True))
    gaps = [_("条件%(n)s尚无评估发现。") % {"n": c} for c in Condition.values if c not in judged]
    judged_occ = set(panel.occupation_judgements.values_list("applied_id", flat=True))
    gaps += [
        _("「%(o)s」尚无是否合理的评估意见。") % {"o": a.occupation}
        for a in app.occupations.select_related("occupation")
        if a.pk not in judged_occ
    ]
    return gaps


def evaluation_objections(app: FilingApplication) -> list[str]:
    """Every judgement of 'not met' or 'not sound', with the expert who made it."""
    panel = app.panel
    out = [
        _("条件%(n)s被%(e)s评估为不符合：%(r)s") % {"n": f.condition, "e": f.expert, "r": f.remarks}
        for f in panel.findings.select_related("expert").filter(met=False)
    ]
    out += [
        _("「%(o)s」被%(e)s评估为不合理：%(r)s") % {"o": j.applied.occupation, "e": j.expert, "r": j.remarks}
        for j in panel.occupation_judgements.select_related("expert", "applied__occupation").filter(sound=False)
    ]
    return out


def panel_conclude(*, application: FilingApplication, actor: User, passed: bool, opinion: str) -> ExpertPanel:
    if not opinion.strip():
        raise ValidationError(_("请填写专家组评估意见。"))
    with APPLICATION.step(Action.CONCLUDE, application, actor) as app:
        panel = ExpertPanel.objects.select_for_update().get(application=app)
        gaps = evaluation_gaps(app)
        if gaps:
            raise TransitionError(gaps)
        objections = evaluation_objections(app) if passed else []
        if objections:
            # A pass needs every condition met and every occupation sound; else conclude "fail".
            raise TransitionError(
                [_("有条件被评估为不符合或职业（工种）被评估为不合理，不能签署“通过”："), *objections]
            )
        panel.conclusion = PanelConclusion.PASS if passed else PanelConclusion.FAIL
        panel.opinion, panel.signed_by, panel.signed_at = opinion.strip(), actor, timezone.now()
        record(panel, actor=actor, reason=stored(gettext_lazy("签署评估结论")))
        panel.save(update_fields=["conclusion", "opinion", "signed_by", "signed_at"])
        to = Status.AWAITING_CONSENT if passed else Status.EVALUATION_FAILED
        APPLICATION.move(app, Action.CONCLUDE, actor=actor, to=to, comment=opinion.strip())
        if passed:
            tell(
                role_holders(Role.MUNICIPAL_HR_OFFICER, Role.COMMISSION_OFFICER),
                app,
                gettext_lazy("技术评估通过，请出具备案确认意见"),
            )
            tell(school_staff(app.school), app, gettext_lazy("技术评估通过，等待备案确认"))
        else:
            tell(
                [*school_staff(app.school), *role_holders(Role.CENTRE_REVIEWER)],
                app,
                gettext_lazy("技术评估未通过"),
                opinion,
            )
    return panel


# --- Filing confirmation ----------------------------------------------------------------


def consent_record(*, application: FilingApplication, actor: User, agreed: bool, comment: str = "") -> Consent:
    if not agreed and not comment.strip():
        raise ValidationError(_("不同意备案须写明理由。"))
    with APPLICATION.step(Action.CONSENT, application, actor) as app:
        consent = Consent(
            application=app, body=consent_body_of(actor), agreed=agreed, comment=comment.strip(), decided_by=actor
        )
        record(consent, actor=actor, reason=stored(gettext_lazy("出具备案确认意见")))
        consent.save()
        decisions = {c.body: c.agreed for c in app.consents.all()}
        if not agreed:
            APPLICATION.move(app, Action.CONSENT, actor=actor, to=Status.REFUSED, comment=comment.strip())
            tell(
                [*school_staff(app.school), *role_holders(Role.CENTRE_REVIEWER, Role.COMMISSION_DEPT_OFFICER)],
                app,
                gettext_lazy("备案未获同意"),
                comment,
            )
        elif len(decisions) == len(ConsentBody.values) and all(decisions.values()):
            APPLICATION.move(app, Action.CONSENT, actor=actor, to=Status.CONSENTED, comment=comment.strip())
            tell(
                role_holders(Role.CENTRE_REVIEWER),
                app,
                gettext_lazy("市人社局、市教委均已同意，请报部备案并出具回执"),
            )
        else:
            APPLICATION.note(app, Action.CONSENT, actor=actor, comment=comment.strip())
    return consent


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
    """Record the report to the ministry, assign codes, list the institution and issue the receipt.

    The receipt's number comes from the shared counter inside this transaction; its PDF is
    rendered after commit (``documents.receipt_render``), never inside the lock.
    """
    category_letter = category_letter.strip().upper()
    site_sequence = site_sequence.strip()
    if not (len(category_letter) == 1 and category_letter.isascii() and category_letter.isalpha()):
        raise ValidationError(_("机构类别应为一个大写英文字母。"))
    if not (len(ministry_code) == 4 and ministry_code.isdigit()):
        raise ValidationError(_("部级机构代码应为4位数字（在本省备案的为0000）。"))
    if site_sequence and not (len(site_sequence) == 6 and site_sequence.isdigit()):
        raise ValidationError(_("机构（站点）序号应为6位数字。"))
    if not ministry_report_ref.strip():
        raise ValidationError(_("请填写报部备案文号。"))
    today = timezone.localdate()
    listed = stored(gettext_lazy("备案确认，列入目录"))
    with APPLICATION.step(Action.CONFIRM, application, actor) as app:
        if app.kind == ApplicationKind.INITIAL and app.institution_id is None and not site_sequence:
            raise ValidationError(_("请填写市人力资源社会保障部门分配的6位机构（站点）序号。"))
        full = _prefetched(app.pk)
        end = validity_end(today)
        existing = Institution.objects.select_for_update().filter(school=app.school).first()
        if app.kind == ApplicationKind.ADD_OCCUPATION:
            institution = existing
            end = min(end, institution.valid_until)  # an occupation never outlives its institution
        elif existing is not None:
            # A renewal, or a school filing again after its entry expired or was removed: the same
            # institution and codes, listed for 3 years from today (DIRECTORY: renew / relist).
            institution = existing
            step = "renew" if app.kind == ApplicationKind.RENEWAL else "relist"
            DIRECTORY.check(step, institution, actor)
            institution.confirmed_on, institution.valid_until, institution.status_reason = today, end, ""
            DIRECTORY.move(
                institution,
                step,
                actor=actor,
                comment=app.ministry_report_ref or ministry_report_ref.strip(),
                fields=("confirmed_on", "valid_until", "status_reason"),
            )
        else:
            institution = Institution(
                school=app.school,
                category_letter=category_letter,
                ministry_code=ministry_code,
                site_sequence=site_sequence,
                confirmed_on=today,
                valid_until=end,
            )
            record(institution, actor=actor, reason=listed)
            try:
                with transaction.atomic():
                    institution.save()
            except IntegrityError:
                raise ValidationError(_("该机构代码已被使用，请更换机构（站点）序号。")) from None
        current = {r.occupation_id: r for r in institution.occupations.select_for_update()} if existing else {}
        for item in full.occupations.all():
            row = current.get(item.occupation_id) or InstitutionOccupation(
                institution=institution, occupation=item.occupation
            )
            row.lowest_level, row.highest_level = item.lowest_level, item.highest_level
            row.basis, row.specification_ref = item.basis, item.specification_ref
            row.confirmed_on, row.valid_until, row.application = today, end, app
            row.status, row.status_reason = InstitutionStatus.ACTIVE, ""
            record(row, actor=actor, reason=listed)
            row.save()
        if app.kind != ApplicationKind.ADD_OCCUPATION:
            for site in AssessmentSite.objects.select_for_update().filter(application=app):
                site.institution = institution
                record(site, actor=actor, reason=listed)
                site.save(update_fields=["institution"])
        app.ministry_report_ref = ministry_report_ref.strip()
        app.ministry_reported_on = ministry_reported_on
        app.filed_at = timezone.now()
        app.institution = institution
        APPLICATION.move(
            app,
            Action.CONFIRM,
            actor=actor,
            comment=ministry_report_ref.strip(),
            fields=("ministry_report_ref", "ministry_reported_on", "filed_at", "institution"),
        )
        receipt = FilingReceipt(
            application=app,
            institution=institution,
            number=numbering.next_receipt_number(today.year),
            issued_at=timezone.now(),
            issued_by=actor,
        )
        record(receipt, actor=actor, reason=stored(gettext_lazy("出具备案回执")))
        receipt.save()
        from institutions.tasks import render_receipt

        enqueue_on_commit(render_receipt, receipt.pk)
        district_officers = users_with_roles([Role.DISTRICT_HR_OFFICER]).filter(
            organisation__district_id=app.school.organisation.district_id
        )
        tell(
            [*school_staff(app.school), *role_holders(Role.COMMISSION_DEPT_OFFICER), *district_officers],
            app,
            gettext_lazy("已备案并列入评价机构目录，备案回执已出具"),
            receipt.number,
        )
    return receipt
