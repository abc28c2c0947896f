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
    PanelConclusion,
    PanelMember,
)
from institutions.services import numbering
from institutions.services.notices import role_holders, school_staff, tell
from institutions.services.rules import submission_problems
from institutions.services.workflow import APPLICATION, EVALUATE_PERM, consent_body_of
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
        tell(new, app, gettext_lazy("您已受邀参加评价机构备案技术评估"))
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


def _finding_write(panel: ExpertPanel, actor: User, condition: int, method: str, satisfied: bool, text: str):
    if condition not in Condition.values or method not in EvaluationMethod.values:
        raise ValidationError(_("条件或评估方式无效。"))
    if not text.strip():
        raise ValidationError(_("请填写评估发现。"))
    finding, created = Finding.objects.get_or_create(
        panel=panel,
        condition=condition,
        method=method,
        defaults={"satisfied": satisfied, "text": text.strip(), "recorded_by": actor},
    )
    if not created:
        finding.satisfied, finding.text, finding.recorded_by = satisfied, text.strip(), actor
        record(finding, actor=actor, reason=stored(gettext_lazy("修改评估发现")))
        finding.save(update_fields=["satisfied", "text", "recorded_by", "recorded_at"])
    return finding


def finding_record(
    *, application: FilingApplication, actor: User, condition: int, method: str, satisfied: bool, text: str
) -> Finding:
    with APPLICATION.step(Action.RECORD_FINDINGS, application, actor) as app:
        return _finding_write(app.panel, actor, condition, method, satisfied, text)


def findings_record(*, application: FilingApplication, actor: User, rows: list[tuple[int, str, bool, str]]) -> int:
    """A page of findings (condition, method, satisfied, text), saved together or not at all."""
    with APPLICATION.step(Action.RECORD_FINDINGS, application, actor) as app:
        for condition, method, satisfied, text in rows:
            _finding_write(app.panel, actor, condition, method, satisfied, text)
    return len(rows)


def missing_findings(panel: ExpertPanel) -> list[tuple[int, str]]:
    done = set(panel.findings.values_list("condition", "method"))
    return [(c, m) for c in Condition.values for m in EvaluationMethod.values if (c, m) not in done]


def panel_conclude(*, application: FilingApplication, actor: User, passed: bool, opinion: str) -> ExpertPanel:
    if not opinion.strip():
        raise ValidationError(_("请填写专家组评估意见。"))
    with APPLICATION.step(Action.CONCLUDE, application, actor) as app:
        panel = ExpertPanel.objects.select_for_update().get(application=app)
        missing = missing_findings(panel)
        if missing:
            raise TransitionError(
                _("还有%(n)s项评估发现未记录（六项条件 × 五种评估方式均须记录）。") % {"n": len(missing)}
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
        if app.kind == ApplicationKind.INITIAL and not site_sequence:
            raise ValidationError(_("请填写市人力资源社会保障部门分配的6位机构（站点）序号。"))
        full = _prefetched(app.pk)
        end = validity_end(today)
        if app.kind == ApplicationKind.ADD_OCCUPATION:
            institution = Institution.objects.select_for_update().get(pk=app.institution_id)
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
        for item in full.occupations.all():
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
            record(row, actor=actor, reason=listed)
            row.save()
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
