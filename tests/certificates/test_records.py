"""Revocation and correction (issue 9 item 8): the school asks with a reason, the centre decides;
nothing is deleted, a revoked number is never reissued, a correction supersedes with a new number."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from certificates.models import Certificate, CertificateStatus, RequestKind, RequestStatus, StatusRequest
from certificates.services import records as service
from certificates.services.issuance import issue_one
from institutions.services.workflow import SANCTION
from portal.models import Role
from portal.workflow import Authority, TransitionError
from tests import factories
from tests.certificates.test_records_builders import issued

pytestmark = pytest.mark.django_db


def test_issued_certificates_are_valid():
    i = issued(2)
    assert [c.status for c in i.certificates] == [CertificateStatus.VALID] * 2
    assert i.certificates[0].number != i.certificates[1].number


def request(i, cert=None, kind=RequestKind.REVOKE, reason="证书信息录入错误", **corrections):
    return service.request_create(
        certificate=cert or i.certificates[0], actor=i.staff, kind=kind, reason=reason, **corrections
    )


def test_revocation_needs_a_reason():
    i = issued(1)
    with pytest.raises(ValidationError, match="请填写申请理由"):
        request(i, reason="  ")
    assert not StatusRequest.objects.exists()


def test_revocation_needs_the_centres_approval():
    i = issued(1)
    req = request(i, reason="考生冒名顶替，经查实")
    cert = Certificate.objects.get(pk=i.certificates[0].pk)
    assert cert.status == CertificateStatus.VALID  # asking changes nothing yet
    with pytest.raises(PermissionDenied):
        service.request_approve(request=req, actor=i.staff)
    service.request_approve(request=req, actor=i.centre, comment="同意撤销")
    cert.refresh_from_db()
    req.refresh_from_db()
    assert cert.status == CertificateStatus.REVOKED
    assert cert.status_changed_at is not None and cert.status_reason == "考生冒名顶替，经查实"
    assert (req.status, req.decided_by) == (RequestStatus.APPROVED, i.centre)
    assert [e.action for e in req.events.all()] == ["request", "approve"]
    assert [e.actor for e in req.events.all()] == [i.staff, i.centre]


def test_a_refusal_needs_a_comment_and_leaves_the_certificate_valid():
    i = issued(1)
    req = request(i)
    with pytest.raises(ValidationError, match="不予批准须写明理由"):
        service.request_refuse(request=req, actor=i.centre, comment="")
    service.request_refuse(request=req, actor=i.centre, comment="理由不充分")
    req.refresh_from_db()
    assert req.status == RequestStatus.REFUSED
    assert Certificate.objects.get(pk=i.certificates[0].pk).status == CertificateStatus.VALID
    with pytest.raises(TransitionError):
        service.request_approve(request=req, actor=i.centre)


def test_only_the_issuing_school_asks():
    i = issued(1)
    other = factories.user(Role.SCHOOL_STAFF, organisation=factories.school().organisation)
    with pytest.raises(PermissionDenied):
        service.request_create(certificate=i.certificates[0], actor=other, kind=RequestKind.REVOKE, reason="x")
    with pytest.raises(PermissionDenied):
        service.request_create(certificate=i.certificates[0], actor=i.centre, kind=RequestKind.REVOKE, reason="x")


def test_one_open_request_per_certificate_and_the_school_may_withdraw_it():
    i = issued(1)
    req = request(i)
    with pytest.raises(ValidationError, match="已有待审核的申请"):
        request(i)
    service.request_withdraw(request=req, actor=i.staff)
    assert request(i).status == RequestStatus.REQUESTED


def test_a_revoked_number_is_never_reissued():
    i = issued(3)
    first, second, third = i.certificates
    service.certificate_revoke(
        certificate=third, actor=i.centre, reason="违规发证", authority=Authority(SANCTION, "处理决定")
    )
    # The revoked candidate asks again: the same (revoked) certificate comes back, no new number.
    third.refresh_from_db()
    again = issue_one(candidate=third.candidate, actor=i.staff, issued_on=third.issued_on)
    assert again.pk == third.pk and again.status == CertificateStatus.REVOKED
    # A correction continues the institution's serial after the revoked number.
    req = request(i, cert=first, kind=RequestKind.CORRECT, name="王小明")
    service.request_approve(request=req, actor=i.centre)
    successor = Certificate.objects.get(supersedes=first)
    assert int(successor.number[-6:]) == int(third.number[-6:]) + 1
    assert Certificate.objects.filter(number=third.number).count() == 1


def test_a_correction_issues_a_successor_and_supersedes_the_old():
    i = issued(1)
    old = i.certificates[0]
    with pytest.raises(ValidationError, match="更正后的姓名或证件号码"):
        request(i, kind=RequestKind.CORRECT, name=old.name)
    req = request(i, kind=RequestKind.CORRECT, reason="姓名录入错误", name="李华")
    service.request_approve(request=req, actor=i.centre)
    old.refresh_from_db()
    req.refresh_from_db()
    new = req.replacement
    assert old.status == CertificateStatus.SUPERSEDED and old.superseded_by == new
    assert (new.supersedes, new.name, new.status) == (old, "李华", CertificateStatus.VALID)
    assert new.number != old.number and new.id_number == old.id_number and new.token != old.token
    # the superseded certificate cannot be asked about again; the successor can
    with pytest.raises(TransitionError):
        request(i, cert=old)
    assert request(i, cert=new).certificate == new


def test_a_corrected_id_number_is_checked():
    i = issued(1)
    with pytest.raises(ValidationError, match="更正后的证件号码"):
        request(i, kind=RequestKind.CORRECT, id_number="3101152006051700")


def test_nothing_is_deleted_and_history_names_the_actors():
    i = issued(2)
    a, b = i.certificates
    service.request_approve(request=request(i, cert=a), actor=i.centre)
    service.request_approve(request=request(i, cert=b, kind=RequestKind.CORRECT, name="赵六"), actor=i.centre)
    assert Certificate.objects.count() == 3
    a.refresh_from_db()
    rows = list(a.history.order_by("history_date"))
    assert [(r.status, r.history_user) for r in rows] == [
        (CertificateStatus.VALID, i.staff),
        (CertificateStatus.REVOKED, i.centre),
    ]
    b.refresh_from_db()
    assert b.history.order_by("history_date").last().history_user == i.centre
    assert b.history.order_by("history_date").last().status == CertificateStatus.SUPERSEDED


def test_oversight_revokes_with_its_sanction_authority_only():
    i = issued(1)
    cert = i.certificates[0]
    officer = factories.user(Role.MUNICIPAL_HR_OFFICER)
    with pytest.raises(PermissionDenied):
        service.certificate_revoke(certificate=cert, actor=officer, reason="违规")
    with pytest.raises(PermissionDenied):
        service.certificate_revoke(certificate=cert, actor=officer, reason="违规", authority=Authority("other"))
    service.certificate_revoke(
        certificate=cert, actor=officer, reason="违规发证", authority=Authority(SANCTION, "案件 #3")
    )
    cert.refresh_from_db()
    assert (cert.status, cert.status_reason) == (CertificateStatus.REVOKED, "违规发证")
    assert cert.history.order_by("history_date").last().history_user == officer
    with pytest.raises(TransitionError):
        service.certificate_revoke(certificate=cert, actor=officer, reason="再次", authority=Authority(SANCTION))
