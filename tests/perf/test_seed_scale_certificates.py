"""``seed_scale`` builds a decade of the city (issue 10 §8) whose certificates are numbered as the
issuing service numbers them: gapless per institution and year of issue, counters at the last
serial, so that issuing one more through the real service continues the sequence.

Run at a small ``--factor`` (2 schools, 25 students a year each, ten school years).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.core.management import call_command

from assessments.models import BatchStaff, Candidate, EvaluationPlan, Outcome, PlanStatus, ResultStatus, Score
from certificates.models import Certificate, CertificateStatus
from certificates.services.issuance import issue_one
from certificates.services.numbering import counter_key, is_well_formed
from oversight.models import ExternalEvaluation, MajorCoverage, Sanction, SanctionKind, ViolationCase
from portal.numbering import peek_number
from schools.models import Student, academic_year_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def decade(settings, monkeypatch):
    settings.DEMO_DATA_ALLOWED = True
    # Keep PostgreSQL's foreign-key checks on here (the seed turns them off for speed as a
    # superuser): the test case checks every constraint at its end, on SQLite and PostgreSQL alike.
    monkeypatch.setattr("assessments.scale.skip_deferred_checks", lambda: False)
    call_command("seed_scale", factor=0.02, no_analyze=True, stdout=open("/dev/null", "w"))  # noqa: SIM115


def _serials() -> dict[tuple[str, str], list[int]]:
    found = defaultdict(list)
    for number in Certificate.objects.values_list("number", flat=True):
        found[(number[:13], number[13:15])].append(int(number[16:]))
    return found


def test_rule_seeded_certificate_numbers_are_gapless_per_institution_and_year(decade):
    numbers = list(Certificate.objects.values_list("number", flat=True))
    assert len(numbers) > 100 and len(set(numbers)) == len(numbers)
    assert all(is_well_formed(n) for n in numbers)
    serials = _serials()
    assert len(serials) >= 2 * 9  # two institutions, nine years of issue
    for (code, year), found in serials.items():
        assert sorted(found) == list(range(1, len(found) + 1)), (code, year)
        assert peek_number(f"certificate:{code}:{year}") == len(found)
    # What a certificate says is its candidate's: level digit, name, ID number, accepted passed result.
    for c in Certificate.objects.select_related("candidate__student", "plan__results")[:50]:
        assert c.number[15] == str(c.level) == str(c.plan.level)
        assert (c.name, c.id_number) == (c.candidate.student.name, c.candidate.student.id_number)
        assert c.plan.results.status == ResultStatus.ACCEPTED
        assert c.candidate.outcome in {Outcome.PASSED, Outcome.VOIDED}
        assert c.number[13:15] == f"{c.issued_on.year % 100:02d}"


def test_rule_issuing_one_more_through_the_service_continues_the_sequence(decade):
    # A failed candidate of an accepted past batch, re-marked as passed, is issued the next number.
    candidate = (
        Candidate.objects.filter(outcome=Outcome.FAILED, plan__results__status=ResultStatus.ACCEPTED)
        .select_related("plan__institution")
        .order_by("pk")
        .first()
    )
    assert candidate is not None
    Candidate.objects.filter(pk=candidate.pk).update(outcome=Outcome.PASSED)
    candidate.refresh_from_db()
    sibling = Certificate.objects.filter(plan=candidate.plan).order_by("number").last()
    assert sibling is not None
    institution = candidate.plan.institution
    key = counter_key(institution, sibling.issued_on.year)
    before = peek_number(key)
    certificate = issue_one(candidate=candidate, actor=None, issued_on=sibling.issued_on)
    assert int(certificate.number[16:]) == before + 1 and peek_number(key) == before + 1
    found = _serials()[(institution.code, f"{sibling.issued_on.year % 100:02d}")]
    assert sorted(found) == list(range(1, before + 2))


def test_the_decade_has_batches_staff_results_and_cases(decade):
    current = academic_year_of(dt.date.today())
    students = Student.objects.count()
    assert Candidate.objects.count() == students  # every graduating student of ten years sat once
    years = {d.year for d in Student.objects.values_list("expected_graduation", flat=True)}
    assert len(years) == 10 and max(years) == current + 1
    accepted = EvaluationPlan.objects.filter(status=PlanStatus.ACCEPTED, results__status=ResultStatus.ACCEPTED)
    assert accepted.exists() and not accepted.filter(candidates__isnull=True).exists()
    assert BatchStaff.objects.filter(duty="examiner").count() == 3 * EvaluationPlan.objects.count()
    assert Score.objects.filter(candidate__outcome=Outcome.PASSED).exists()
    assert not Certificate.objects.filter(candidate__outcome__in=[Outcome.FAILED, Outcome.ABSENT]).exists()
    revoked = Certificate.objects.filter(status=CertificateStatus.REVOKED)
    assert revoked.exists()
    sanctioned = set(
        Sanction.objects.filter(kind=SanctionKind.REVOKE_CERTIFICATE).values_list("certificate", flat=True)
    )
    assert sanctioned and sanctioned <= set(revoked.values_list("pk", flat=True))  # a sanction revoked each
    assert ViolationCase.objects.exists()
    assert ExternalEvaluation.objects.filter(school_year=current).count() == 2 * 2  # two schools, two majors
    assert MajorCoverage.objects.filter(school_year=current).exists()
