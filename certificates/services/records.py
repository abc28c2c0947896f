"""Revocation and correction of certificates (issue 9 item 8): never a deletion.

The issuing school asks (``request_create``: a reason, and for a correction the corrected name
and/or ID number); the appraisal centre approves or refuses with a comment (``REQUEST`` on the
shared workflow core). An approved revocation sets the certificate's status to revoked with when
and why; an approved correction issues a new certificate with a new number that ``supersedes``
the old one, which becomes superseded, in the same transaction. Its number is never reused: the
serial comes from the shared counter, so a later issue continues after it.

Oversight (issue 10) revokes with its own authority through ``certificate_revoke`` (an
``Authority`` named ``SANCTION``), without a request.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certificates.models import (
    Certificate,
    CertificateStatus,
    RequestKind,
    RequestStatus,
    StatusRequest,
    StatusRequestEvent,
)
from certificates.services.numbering import certificate_number
from institutions.services.workflow import SANCTION, is_school_staff_of
from portal.access import users_with_roles
from portal.i18n import stored
from portal.models import Role, User
from portal.services import notify, record
from portal.validators import normalise_id_number, validate_resident_id_number
from portal.workflow import Authority, Transition, TransitionError, Workflow, has_role
from schools.models import IdType

logger = logging.getLogger(__name__)

S = RequestStatus
# Authorities that revoke without a request (oversight's sanction decisions).
REVOKE_AUTHORITIES = frozenset({SANCTION})


def _school_staff_of_request(user, request: StatusRequest) -> bool:
    return is_school_staff_of(user, request.certificate.institution.school)


REQUEST = Workflow(
    name="certificate_request",
    model=StatusRequest,
    event_model=StatusRequestEvent,
    event_fields=lambda req: {"request": req},
    lock_related=("certificate__institution__school",),
    state_message=gettext_lazy("申请当前状态为“%(status)s”，不能执行“%(action)s”。"),
    transitions=[
        Transition("approve", gettext_lazy("批准"), frozenset({S.REQUESTED}), has_role(Role.CENTRE_REVIEWER)),
        Transition(
            "refuse",
            gettext_lazy("不予批准"),
            frozenset({S.REQUESTED}),
            has_role(Role.CENTRE_REVIEWER),
            target=S.REFUSED,
            needs_comment=True,
            style="outline-danger",
        ),
        Transition(
            "withdraw",
            gettext_lazy("撤回申请"),
            frozenset({S.REQUESTED}),
            _school_staff_of_request,
            target=S.WITHDRAWN,
            style="outline-secondary",
        ),
    ],
)


def _link(certificate: Certificate) -> str:
    return reverse("certificates:certificate_detail", args=[certificate.pk])


def _tell_school(certificate: Certificate, title, body: str = "") -> None:
    staff = users_with_roles([Role.SCHOOL_STAFF], organisation=certificate.institution.school.organisation)
    notify(
        recipients=list(staff),
        title=stored(gettext_lazy("%(title)s：%(number)s"), title=title, number=certificate.number),
        body=body,
        link=_link(certificate),
    )


# --- The school asks -------------------------------------------------------------------------


def _corrections(certificate: Certificate, name: str, id_number: str) -> dict:
    name = (name or "").strip()
    id_number = normalise_id_number(id_number)
    out = {}
    if name and name != certificate.name:
        out["name"] = name
    if id_number and id_number != certificate.id_number:
        if certificate.id_type == IdType.RESIDENT_ID:
            try:
                validate_resident_id_number(id_number)
            except ValidationError as exc:
                raise ValidationError(_("更正后的证件号码：%(m)s") % {"m": "；".join(exc.messages)}) from None
        out["id_number"] = id_number
    if not out:
        raise ValidationError(_("更正申请须填写更正后的姓名或证件号码（与证书现有内容不同）。"))
    return out


def request_create(
    *, certificate: Certificate, actor: User, kind: str, reason: str, name: str = "", id_number: str = ""
) -> StatusRequest:
    """The issuing school asks the centre to revoke or correct a valid certificate."""
    if not is_school_staff_of(actor, certificate.institution.school):
        raise PermissionDenied
    if kind not in RequestKind.values:
        raise ValidationError(_("请选择申请类型（撤销或更正）。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写申请理由。"))
    corrections = _corrections(certificate, name, id_number) if kind == RequestKind.CORRECT else {}
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status != CertificateStatus.VALID:
            raise TransitionError(
                _("证书%(number)s当前状态为“%(status)s”，不能申请撤销或更正。")
                % {"number": locked.number, "status": locked.get_status_display()}
            )
        if StatusRequest.objects.filter(certificate=locked, status=S.REQUESTED).exists():
            raise ValidationError(
                _("证书%(number)s已有待审核的申请，请等待市职鉴中心处理或先撤回。") % {"number": locked.number}
            )
        req = StatusRequest(certificate=locked, kind=kind, reason=reason, corrections=corrections, requested_by=actor)
        record(req, actor=actor, reason=stored(gettext_lazy("提交证书撤销／更正申请")))
        try:
            with transaction.atomic():
                req.save()
        except IntegrityError:
            raise ValidationError(
                _("证书%(number)s已有待审核的申请，请等待市职鉴中心处理或先撤回。") % {"number": locked.number}
            ) from None
        StatusRequestEvent.objects.create(
            request=req, action="request", from_status="", to_status=S.REQUESTED, actor=actor, comment=reason
        )
        notify(
            recipients=list(users_with_roles([Role.CENTRE_REVIEWER])),
            title=stored(
                gettext_lazy("新的%(kind)s申请待审核：%(number)s"), kind=RequestKind(kind).label, number=locked.number
            ),
            body=reason,
            link=reverse("certificates:request_detail", args=[req.pk]),
        )
    return req


# --- The centre decides ---------------------------------------------------------------------


def _revoke(certificate: Certificate, actor: User | None, reason: str, why) -> Certificate:
    """Inside a transaction, on a locked row: status revoked, with when and why; nothing deleted."""
    if certificate.status != CertificateStatus.VALID:
        raise TransitionError(
            _("证书%(number)s当前状态为“%(status)s”，不能撤销。")
            % {"number": certificate.number, "status": certificate.get_status_display()}
        )
    certificate.status = CertificateStatus.REVOKED
    certificate.status_changed_at = timezone.now()
    certificate.status_reason = reason
    record(certificate, actor=actor, reason=why)
    certificate.save(update_fields=["status", "status_changed_at", "status_reason"])
    return certificate


def issue_correction(
    *,
    certificate: Certificate,
    actor: User,
    reason: str,
    name: str = "",
    id_number: str = "",
    issued_on: dt.date | None = None,
) -> Certificate:
    """A new certificate with a new number and the corrected fields, superseding ``certificate``
    (which becomes superseded) in one transaction. The PDF is rendered after commit."""
    issued_on = issued_on or timezone.localdate()
    with transaction.atomic():
        old = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if old.status != CertificateStatus.VALID:
            raise TransitionError(
                _("证书%(number)s当前状态为“%(status)s”，不能更正。")
                % {"number": old.number, "status": old.get_status_display()}
            )
        new = Certificate(
            number=certificate_number(institution=old.institution, issued_on=issued_on, level=old.level),
            institution=old.institution,
            candidate=old.candidate,
            plan=old.plan,
            name=name or old.name,
            id_type=old.id_type,
            id_number=id_number or old.id_number,
            occupation=old.occupation,
            occupation_name=old.occupation_name,
            work_type=old.work_type,
            level=old.level,
            institution_name=old.institution_name,
            issued_on=issued_on,
            token=secrets.token_urlsafe(32),
            photo=old.photo.name if old.photo else "",
            issued_by=actor,
            supersedes=old,
            report=None,
        )
        record(new, actor=actor, reason=stored(gettext_lazy("更正后换发证书，替代%(number)s"), number=old.number))
        new.save()
        old.status = CertificateStatus.SUPERSEDED
        old.status_changed_at = timezone.now()
        old.status_reason = reason
        record(old, actor=actor, reason=stored(gettext_lazy("已更正，由新证书%(number)s替代"), number=new.number))
        old.save(update_fields=["status", "status_changed_at", "status_reason"])
        transaction.on_commit(lambda: render_pdf_later(new.pk))
    return new


def render_pdf_later(pk: int) -> None:
    """The issuance helper's PDF rendering (``documents.certificate_render``), if present, after commit."""
    try:
        from certificates.services.documents import certificate_render
    except ImportError:
        return
    try:
        certificate_render(certificate_id=pk)
    except Exception:  # the record stands; the PDF is rendered again from the issue page
        logger.exception("PDF rendering failed for certificate %s", pk)


def request_approve(*, request: StatusRequest, actor: User, comment: str = "") -> StatusRequest:
    comment = (comment or "").strip()
    with REQUEST.step("approve", request, actor) as locked:
        certificate = Certificate.objects.select_for_update().get(pk=locked.certificate_id)
        if locked.kind == RequestKind.REVOKE:
            _revoke(
                certificate,
                actor,
                locked.reason,
                stored(gettext_lazy("经市职鉴中心批准撤销：%(reason)s"), reason=locked.reason),
            )
        else:
            locked.replacement = issue_correction(
                certificate=certificate,
                actor=actor,
                reason=locked.reason,
                name=locked.corrections.get("name", ""),
                id_number=locked.corrections.get("id_number", ""),
            )
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        REQUEST.move(
            locked,
            "approve",
            actor=actor,
            to=S.APPROVED,
            comment=comment,
            fields=("decided_by", "decided_at", "replacement"),
        )
        title = (
            gettext_lazy("证书撤销申请已批准")
            if locked.kind == RequestKind.REVOKE
            else gettext_lazy("证书更正申请已批准")
        )
        _tell_school(certificate, title, comment)
    return locked


def request_refuse(*, request: StatusRequest, actor: User, comment: str) -> StatusRequest:
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("不予批准须写明理由。"))
    with REQUEST.step("refuse", request, actor) as locked:
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        REQUEST.move(locked, "refuse", actor=actor, comment=comment, fields=("decided_by", "decided_at"))
        _tell_school(locked.certificate, gettext_lazy("证书撤销／更正申请不予批准"), comment)
    return locked


def request_withdraw(*, request: StatusRequest, actor: User, comment: str = "") -> StatusRequest:
    with REQUEST.step("withdraw", request, actor) as locked:
        REQUEST.move(locked, "withdraw", actor=actor, comment=(comment or "").strip())
    return locked


EVENT_LABELS = {
    "request": gettext_lazy("提出申请"),
    "approve": gettext_lazy("批准"),
    "refuse": gettext_lazy("不予批准"),
    "withdraw": gettext_lazy("撤回申请"),
}

REQUEST_ACTIONS = {"approve": request_approve, "refuse": request_refuse, "withdraw": request_withdraw}


# --- Oversight's own authority ------------------------------------------------------------------


def certificate_revoke(
    *, certificate: Certificate, actor: User | None, reason: str, authority: Authority | None = None
) -> Certificate:
    """Revoke directly, without a request, with an authority listed in ``REVOKE_AUTHORITIES``
    (oversight's sanction). Anyone else asks through ``request_create``."""
    if authority is None or authority.name not in REVOKE_AUTHORITIES:
        raise PermissionDenied
    reason = (reason or "").strip() or authority.reason
    if not reason:
        raise ValidationError(_("撤销证书须写明原因。"))
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        _revoke(
            locked,
            actor,
            reason,
            stored(gettext_lazy("依处理决定撤销：%(reason)s"), reason=reason),
        )
        _tell_school(locked, gettext_lazy("证书已依处理决定撤销"), reason)
    return locked
