"""Issued certificates for the verification tests: an accepted batch whose candidates all passed,
each issued a certificate by ``certificates.services.issuance.issue_one``."""

from __future__ import annotations

import datetime as dt
import secrets

import time_machine
from django.utils import timezone

from assessments.models import Attendance, Candidate
from assessments.services import results
from certificates.models import Certificate, CertificateStatus
from certificates.services.issuance import issue_one
from certificates.services.numbering import certificate_number
from tests.assessments.test_results_builders import AFTER_BATCH, batch
from tests.certificates.issuance_builders import give_photos

ISSUED_ON = dt.date(2026, 12, 15)


def issued(n: int = 2) -> list[Certificate]:
    """``n`` valid certificates from one accepted batch (all candidates passed)."""
    b = batch(n)
    with time_machine.travel(AFTER_BATCH, tick=False):
        results.attendance_record(
            plan=b.plan, actor=b.staff, entries={c.pk: (Attendance.PRESENT, "") for c in b.candidates}
        )
        results.scores_save(
            plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "80", "practical": "75"} for c in b.candidates}
        )
        results.results_submit(plan=b.plan, actor=b.staff)
        results.results_accept(plan=b.plan, actor=b.centre)
    give_photos(b)
    candidates = Candidate.objects.filter(pk__in=[c.pk for c in b.candidates]).select_related("plan").order_by("pk")
    with time_machine.travel(dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.UTC), tick=False):
        return [issue_one(candidate=c, actor=b.staff, issued_on=ISSUED_ON) for c in candidates]


def revoke(certificate: Certificate, reason: str = "考生提供的身份信息不实") -> Certificate:
    """As the records area's approved revocation leaves the row (its service is tested there)."""
    Certificate.objects.filter(pk=certificate.pk).update(
        status=CertificateStatus.REVOKED, status_changed_at=timezone.now(), status_reason=reason
    )
    certificate.refresh_from_db()
    return certificate


def supersede(certificate: Certificate, *, name: str) -> Certificate:
    """A corrected certificate replacing ``certificate`` (the old one reads superseded)."""
    old = Certificate.objects.get(pk=certificate.pk)
    new = Certificate.objects.get(pk=certificate.pk)
    new.pk = None
    new.id = None
    new.name = name
    new.supersedes = old
    new.token = secrets.token_urlsafe(32)
    new.number = certificate_number(institution=old.institution, issued_on=old.issued_on, level=old.level)
    new.save()
    Certificate.objects.filter(pk=old.pk).update(
        status=CertificateStatus.SUPERSEDED, status_changed_at=timezone.now(), status_reason="姓名更正"
    )
    old.refresh_from_db()
    return new
