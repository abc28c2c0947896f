"""seed_demo's violation cases: one open from a supervision report, one decided with a sanction;
the demo certificates stay as the certificates demo left them (valid, revoked, superseded)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from assessments.models import Outcome
from certificates.models import Certificate, CertificateStatus
from oversight.models import CaseSource, CaseStatus, Sanction, SanctionKind, ViolationCase

pytestmark = [pytest.mark.django_db, pytest.mark.needs("pango")]


def test_seed_demo_holds_an_open_and_a_decided_case_and_leaves_the_certificates_alone():
    call_command("seed_demo", stdout=StringIO())
    cases = {c.status: c for c in ViolationCase.objects.all()}
    assert set(cases) == {CaseStatus.OPEN, CaseStatus.DECIDED}
    assert cases[CaseStatus.OPEN].source == CaseSource.SUPERVISION and cases[CaseStatus.OPEN].person_id
    sanction = Sanction.objects.get()
    assert sanction.kind == SanctionKind.VOID_RESULT and sanction.candidate.outcome == Outcome.VOIDED
    statuses = sorted(Certificate.objects.values_list("status", flat=True))
    assert statuses.count(CertificateStatus.REVOKED) == 1 and statuses.count(CertificateStatus.SUPERSEDED) == 1
    call_command("seed_demo", stdout=StringIO())
    assert ViolationCase.objects.count() == 2
