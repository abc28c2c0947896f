"""Violation cases and sanctions (违规违纪, notice 二(四)1 and 二(四)3; 人社职司便函〔2021〕57号).

A case is opened against a candidate, a staff member or an institution, from a supervision report,
a result anomaly, a complaint or directly (``case_open``); evidence is attached while it is open
(``evidence_add``). It is decided by the institution or its supervising authority (``case_decide``:
a decision text, and sanctions that each act on the data through the owning app's service with the
``SANCTION`` authority), or dismissed with a reason (``case_dismiss``). Nothing is deleted.

Who may act (policies, never role names in the steps):

- open: the centre, the municipal HR bureau, the district HR bureau for institutions of its
  district (the supervising authorities, any subject); the institution's own school staff for
  cases against its own candidates or staff;
- decide or dismiss: a supervising authority, any sanction; the institution's own staff only on a
  candidate or staff case, and only voiding a result or revoking a certificate of its own.

Case numbers come from the shared counter under the key ``case:<year>``: ``WG`` + year + six
digits, e.g. ``WG2026000123``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import BarredKind, Candidate, SupervisionAssignment
from assessments.services.results import result_void
from assessments.services.staffing import bar_person
from certificates.models import Certificate
from certificates.services.records import certificate_revoke
from institutions.models import Institution, InstitutionOccupation
from institutions.services.directory import (
    directory_occupation_remove,
    directory_occupation_suspend,
    institution_remove,
    institution_suspend,
)
from institutions.services.drafting import checked_evidence_files
from institutions.services.workflow import SANCTION, is_school_staff_of
from oversight.models.cases import (
    CaseEvent,
    CaseEvidence,
    CaseSource,
    CaseStatus,
    DecidingBody,
    Sanction,
    SanctionKind,
    SubjectKind,
    ViolationCase,
)
from portal.access import users_with_roles
from portal.i18n import stored
from portal.models import Role, User
from portal.numbering import next_number
from portal.services import notify, record
from portal.workflow import Authority, Transition, TransitionError, Workflow

S = CaseStatus
K = SanctionKind
INSTITUTION_SANCTIONS = frozenset({K.VOID_RESULT, K.REVOKE_CERTIFICATE})
INSTITUTION_ONLY_SANCTIONS = frozenset(
    {K.SUSPEND_INSTITUTION, K.REMOVE_INSTITUTION, K.SUSPEND_OCCUPATION, K.REMOVE_OCCUPATION}
)

__all__ = [
    "CASE",
    "SanctionSpec",
    "allowed_sanctions",
    "case_decide",
    "case_dismiss",
    "case_number",
    "case_open",
    "deciding_body",
    "evidence_add",
    "may_open",
]


# --- Who may act -------------------------------------------------------------------------------


def supervising_body(user, institution: Institution) -> str | None:
    """The supervising authority in whose name ``user`` acts on ``institution``, or None."""
    if not (user is not None and user.is_authenticated):
        return None
    if user.has_role(Role.CENTRE_REVIEWER):
        return DecidingBody.CENTRE
    if user.has_role(Role.MUNICIPAL_HR_OFFICER):
        return DecidingBody.MUNICIPAL_HR
    if user.has_role(Role.DISTRICT_HR_OFFICER) and user.organisation is not None:
        district = user.organisation.district_id
        if district and district == institution.school.organisation.district_id:
            return DecidingBody.DISTRICT_HR
    return None


def deciding_body(user, case_or_institution, subject_kind: str | None = None) -> str | None:
    """The body ``user`` acts for on a case (or on opening one against ``institution``)."""
    if isinstance(case_or_institution, ViolationCase):
        institution, subject_kind = case_or_institution.institution, case_or_institution.subject_kind
    else:
        institution = case_or_institution
    body = supervising_body(user, institution)
    if body:
        return body
    if subject_kind != SubjectKind.INSTITUTION and is_school_staff_of(user, institution.school):
        return DecidingBody.INSTITUTION
    return None


def may_open(user, institution: Institution, subject_kind: str) -> bool:
    return deciding_body(user, institution, subject_kind) is not None


def may_handle(user, case: ViolationCase) -> bool:
    return deciding_body(user, case) is not None


def allowed_sanctions(user, case: ViolationCase) -> list[str]:
    """The sanction kinds ``user`` may decide on ``case`` (empty: none)."""
    body = deciding_body(user, case)
    if body is None:
        return []
    kinds = list(K.values)
    if body == DecidingBody.INSTITUTION:
        kinds = [k for k in kinds if k in INSTITUTION_SANCTIONS]
    if not case.candidate_id:
        kinds = [k for k in kinds if k not in (K.VOID_RESULT, K.BAR_CANDIDATE)]
    if case.subject_kind != SubjectKind.STAFF or not case.person_id:
        kinds = [k for k in kinds if k != K.BAR_STAFF]
    return kinds


CASE = Workflow(
    name="violation_case",
    model=ViolationCase,
    event_model=CaseEvent,
    event_fields=lambda case: {"case": case},
    lock_related=("institution__school__organisation",),
    state_message=gettext_lazy("案件当前状态为“%(status)s”，不能执行“%(action)s”。"),
    transitions=[
        Transition("decide", gettext_lazy("作出处理决定"), frozenset({S.OPEN}), may_handle, target=S.DECIDED),
        Transition(
            "dismiss",
            gettext_lazy("不予处理"),
            frozenset({S.OPEN}),
            may_handle,
            target=S.DISMISSED,
            needs_comment=True,
            style="outline-secondary",
        ),
        Transition("evidence", gettext_lazy("上传证据"), frozenset({S.OPEN}), may_handle, style="outline-primary"),
    ],
)


# --- Numbers and notices -----------------------------------------------------------------------


def case_number(year: int) -> str:
    """The next case number of ``year`` (inside the transaction that stores the case)."""
    return f"WG{year}{next_number(f'case:{year}'):06d}"


def _link(case: ViolationCase) -> str:
    return reverse("oversight:case_detail", args=[case.pk])


def _parties(case: ViolationCase, actor) -> list[User]:
    """The institution's school staff and the district bureau of its district."""
    org = case.institution.school.organisation
    staff = users_with_roles([Role.SCHOOL_STAFF], organisation=org)
    district = (
        users_with_roles([Role.DISTRICT_HR_OFFICER]).filter(organisation__district_id=org.district_id)
        if org.district_id
        else []
    )
    return [u for u in [*staff, *district] if actor is None or u.pk != actor.pk]


def _tell(recipients, case: ViolationCase, title, body: str = "") -> None:
    notify(
        recipients=list(recipients),
        title=stored(
            gettext_lazy("%(title)s：%(number)s %(subject)s"),
            title=title,
            number=case.number,
            subject=case.subject_name,
        ),
        body=body,
        link=_link(case),
    )


def _event(case: ViolationCase, action: str, actor, *, from_status: str, comment: str = "") -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, action=action, from_status=from_status, to_status=case.status, actor=actor, comment=comment
    )


# --- Opening ---------------------------------------------------------------------------------


def case_open(
    *,
    actor,
    subject_kind: str,
    institution: Institution,
    title: str,
    facts: str,
    source: str,
    candidate: Candidate | None = None,
    person: User | None = None,
    occupation: InstitutionOccupation | None = None,
    plan=None,
    supervision: SupervisionAssignment | None = None,
    complaint=None,
) -> ViolationCase:
    """Open a case; its number comes from the shared counter. Every problem is named at once."""
    if not may_open(actor, institution, subject_kind):
        raise PermissionDenied
    title, facts = (title or "").strip(), (facts or "").strip()
    problems: list[str] = []
    if subject_kind not in SubjectKind.values:
        problems.append(_("请选择当事人类型（参评人员、工作人员或评价机构）。"))
    if source not in CaseSource.values:
        problems.append(_("请选择案件来源。"))
    if not title:
        problems.append(_("请填写案由。"))
    if not facts:
        problems.append(_("请填写基本事实。"))
    if supervision is not None:
        if not supervision.report_filed_at:
            problems.append(_("该督导尚未提交督导报告，不能据此立案。"))
        plan = plan or supervision.plan
        if supervision.plan_id != plan.pk:
            problems.append(_("督导报告与所选评价批次不一致。"))
    elif source == CaseSource.SUPERVISION:
        problems.append(_("依据督导报告立案须指明督导报告。"))
    if source == CaseSource.COMPLAINT and complaint is None:
        problems.append(_("依据投诉举报立案须指明投诉举报。"))
    if candidate is not None:
        plan = plan or candidate.plan
        if candidate.plan_id != plan.pk:
            problems.append(_("考生不在所选评价批次中。"))
    if source == CaseSource.ANOMALY and plan is None:
        problems.append(_("依据结果异常立案须指明评价批次。"))
    if plan is not None:
        if plan.institution_id != institution.pk:
            problems.append(_("评价批次不属于该评价机构。"))
        occupation = occupation or plan.occupation
    if occupation is not None and occupation.institution_id != institution.pk:
        problems.append(_("评价职业（工种）不属于该评价机构。"))
    subject_name, subject_id = "", ""
    if subject_kind == SubjectKind.CANDIDATE:
        if candidate is None:
            problems.append(_("对象为参评人员时须选择考生。"))
        else:
            subject_name, subject_id = candidate.student.name, candidate.student.id_number
    elif subject_kind == SubjectKind.STAFF:
        if person is None:
            problems.append(_("对象为工作人员时须选择人员。"))
        else:
            subject_name = person.full_name or person.username
    elif subject_kind == SubjectKind.INSTITUTION:
        subject_name = institution.name
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        case = ViolationCase(
            number=case_number(timezone.localdate().year),
            subject_kind=subject_kind,
            candidate=candidate,
            person=person if subject_kind == SubjectKind.STAFF else None,
            subject_name=subject_name[:200],
            subject_id_number=subject_id,
            institution=institution,
            occupation=occupation,
            plan=plan,
            source=source,
            supervision=supervision,
            complaint=complaint,
            title=title[:200],
            facts=facts,
            status=S.OPEN,
            opened_by=actor,
        )
        record(case, actor=actor, reason=stored(gettext_lazy("立案")))
        case.save()
        _event(case, "open", actor, from_status="", comment=title)
        _tell(_parties(case, actor), case, gettext_lazy("违规违纪案件已立案"), title)
    return case


# --- Evidence -------------------------------------------------------------------------------------


def evidence_add(*, case: ViolationCase, actor, uploads, description: str = "") -> list[CaseEvidence]:
    """PDF, JPEG or PNG judged by content, at most 10 MB each, while the case is open."""
    uploads = [u for u in uploads if u]
    description = (description or "").strip()
    problems: list[str] = [] if uploads else [_("请选择要上传的证据文件。")]
    kinds, file_problems = checked_evidence_files(uploads)
    problems += file_problems
    if problems:
        raise ValidationError(problems)
    rows = []
    with CASE.step("evidence", case, actor) as locked:
        for upload, kind in zip(uploads, kinds, strict=True):
            row = CaseEvidence(
                case=locked,
                original_name=upload.name[:200],
                content_type=kind.mime,
                size=upload.size,
                description=description[:200],
                uploaded_by=actor,
            )
            row.file.save(f"{kind.extension}.{kind.extension}", upload, save=False)
            row.save()
            rows.append(row)
        CASE.note(locked, "evidence", actor=actor, comment="、".join(r.original_name for r in rows))
    return rows


# --- Deciding -----------------------------------------------------------------------------------


@dataclass
class SanctionSpec:
    """One sanction of a decision; what it acts on defaults to the case's own subject."""

    kind: str
    candidate: Candidate | None = None
    certificate: Certificate | None = None
    occupation: InstitutionOccupation | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


def _label(kind: str) -> str:
    return str(K(kind).label) if kind in K.values else kind


def _checked(case: ViolationCase, spec: SanctionSpec, allowed: list[str]) -> list[str]:
    """What is wrong with one sanction, each sentence naming it."""
    name = _label(spec.kind)
    if spec.kind not in K.values:
        return [_("处理措施“%(kind)s”无效。") % {"kind": spec.kind}]
    if spec.kind not in allowed:
        return [_("您无权作出“%(kind)s”的处理，或该措施不适用于本案对象。") % {"kind": name}]
    out = []
    if spec.kind in (K.VOID_RESULT, K.BAR_CANDIDATE):
        candidate = spec.candidate or case.candidate
        if candidate is None:
            out.append(_("“%(kind)s”须指明考生。") % {"kind": name})
        elif candidate.plan.institution_id != case.institution_id:
            out.append(_("“%(kind)s”：考生不属于本案的评价机构。") % {"kind": name})
    if spec.kind == K.REVOKE_CERTIFICATE:
        if spec.certificate is None:
            out.append(_("“%(kind)s”须选择证书。") % {"kind": name})
        elif spec.certificate.institution_id != case.institution_id:
            out.append(
                _("“%(kind)s”：证书%(number)s不是本案评价机构颁发的。")
                % {"kind": name, "number": spec.certificate.number}
            )
    if spec.kind in (K.SUSPEND_OCCUPATION, K.REMOVE_OCCUPATION):
        occupation = spec.occupation or case.occupation
        if occupation is None:
            out.append(_("“%(kind)s”须选择评价职业（工种）。") % {"kind": name})
        elif occupation.institution_id != case.institution_id:
            out.append(_("“%(kind)s”：该职业（工种）不属于本案的评价机构。") % {"kind": name})
    if spec.kind in (K.BAR_CANDIDATE, K.BAR_STAFF):
        if spec.starts_on is None:
            out.append(_("“%(kind)s”须填写起始日期。") % {"kind": name})
        elif spec.ends_on is not None and spec.ends_on < spec.starts_on:
            out.append(_("“%(kind)s”的截止日期不能早于起始日期。") % {"kind": name})
    return out


def _apply(case: ViolationCase, spec: SanctionSpec, actor, authority: Authority, reason: str) -> Sanction:
    """Act through the owning service, then record what was touched."""
    row = Sanction(case=case, kind=spec.kind, applied_by=actor, starts_on=spec.starts_on, ends_on=spec.ends_on)
    if spec.kind == K.VOID_RESULT:
        row.candidate = result_void(
            candidate=spec.candidate or case.candidate, actor=actor, reason=reason, authority=authority
        )
    elif spec.kind == K.REVOKE_CERTIFICATE:
        row.certificate = certificate_revoke(
            certificate=spec.certificate, actor=actor, reason=reason, authority=authority
        )
        row.candidate = row.certificate.candidate
    elif spec.kind == K.BAR_CANDIDATE:
        candidate = spec.candidate or case.candidate
        row.candidate = candidate
        row.barring = bar_person(
            kind=BarredKind.CANDIDATE,
            id_number=candidate.student.id_number,
            actor=actor,
            reason=reason,
            starts_on=spec.starts_on,
            ends_on=spec.ends_on,
            authority=authority,
        )
    elif spec.kind == K.BAR_STAFF:
        row.barring = bar_person(
            kind=BarredKind.STAFF,
            person=case.person,
            actor=actor,
            reason=reason,
            starts_on=spec.starts_on,
            ends_on=spec.ends_on,
            authority=authority,
        )
    elif spec.kind in (K.SUSPEND_INSTITUTION, K.REMOVE_INSTITUTION):
        act = institution_suspend if spec.kind == K.SUSPEND_INSTITUTION else institution_remove
        row.institution = act(institution=case.institution, actor=actor, reason=reason, authority=authority)
    else:
        act = directory_occupation_suspend if spec.kind == K.SUSPEND_OCCUPATION else directory_occupation_remove
        row.occupation = act(row=spec.occupation or case.occupation, actor=actor, reason=reason, authority=authority)
    record(row, actor=actor, reason=stored(gettext_lazy("依处理决定执行：%(kind)s"), kind=K(spec.kind).label))
    row.save()
    return row


def case_decide(*, case: ViolationCase, actor, decision: str, sanctions=()) -> ViolationCase:
    """Decide the case: a decision text (required), and the sanctions (none for 批评教育), applied
    in one transaction through each owning service: all happen, or none."""
    decision = (decision or "").strip()
    sanctions = list(sanctions)
    CASE.check("decide", case, actor)  # 403 before anything is said about the input
    allowed = allowed_sanctions(actor, case)
    problems: list[str] = []
    if not decision:
        problems.append(_("请填写处理决定。"))
    for spec in sanctions:
        problems.extend(_checked(case, spec, allowed))
    if problems:
        raise ValidationError(problems)
    with CASE.step("decide", case, actor) as locked:
        body = deciding_body(actor, locked)
        reason = _("依违规违纪案件%(number)s的处理决定") % {"number": locked.number}
        authority = Authority(SANCTION, reason)
        applied = []
        for spec in sanctions:
            try:
                applied.append(_apply(locked, spec, actor, authority, reason))
            except TransitionError as exc:
                raise TransitionError(
                    [_("“%(kind)s”未能执行：%(m)s") % {"kind": _label(spec.kind), "m": m} for m in exc.messages]
                ) from None
        _conclude(locked, "decide", actor, decision, body, gettext_lazy("违规违纪案件已作出处理决定"))
    return locked


def case_dismiss(*, case: ViolationCase, actor, reason: str) -> ViolationCase:
    """不予处理, with the reason (required)."""
    reason = (reason or "").strip()
    CASE.check("dismiss", case, actor)
    if not reason:
        raise ValidationError(_("不予处理须写明理由。"))
    with CASE.step("dismiss", case, actor) as locked:
        _conclude(locked, "dismiss", actor, reason, deciding_body(actor, locked), gettext_lazy("违规违纪案件不予处理"))
    return locked


def _conclude(locked: ViolationCase, action: str, actor, text: str, body: str, title) -> None:
    """Decide or dismiss: the decision, who and when, the step, and the parties told (the person
    concerned too)."""
    locked.decision, locked.deciding_body = text, body
    locked.decided_by, locked.decided_at = actor, timezone.now()
    CASE.move(
        locked, action, actor=actor, comment=text, fields=("decision", "deciding_body", "decided_by", "decided_at")
    )
    recipients = _parties(locked, actor)
    if locked.person_id:
        recipients.append(locked.person)
    _tell(recipients, locked, title, text)
