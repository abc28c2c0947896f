"""Certificate numbers under concurrent issuance, on PostgreSQL (``pytest -k concurren``; needs
DATABASE_URL): 10,000 numbers from 8 concurrent issuers, zero duplicates, zero gaps, rolled-back
numbers given back; and issuers racing over the same candidates issue each one exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from assessments.models import Attendance, Candidate
from assessments.services import results
from certificates.models import Certificate
from certificates.services.issuance import issue_one
from certificates.services.numbering import certificate_number
from institutions.models import Institution
from tests.assessments.test_results_builders import AFTER_BATCH, batch
from tests.concurrency.test_concurrent_numbering import WORKERS, run_together

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks and concurrent transactions need PostgreSQL (CI runs these with DATABASE_URL)",
    ),
]

TOTAL = 10_000
ISSUED_ON = dt.date(2026, 12, 20)


def test_concurrent_issuers_get_10000_certificate_numbers_without_duplicate_or_gap():
    b = batch(1)
    inst = Institution.objects.get(pk=b.plan.institution_id)
    per_worker = TOTAL // WORKERS

    def issue(worker: int) -> list[str]:
        kept = []
        i = 0
        while len(kept) < per_worker:
            try:
                with transaction.atomic():
                    number = certificate_number(institution=inst, issued_on=ISSUED_ON, level=4)
                    if (worker + i) % 7 == 0:  # this certificate fails to save: its serial comes back
                        raise RuntimeError("rolled back")
                kept.append(number)
            except RuntimeError:
                pass
            i += 1
        return kept

    results_ = run_together([lambda w=w: issue(w) for w in range(WORKERS)])
    assert all(kind == "ok" for kind, _ in results_), results_
    numbers = [n for _kind, values in results_ for n in values]
    assert len(numbers) == TOTAL
    assert len(set(numbers)) == TOTAL, "a number was issued twice"
    assert {n[:16] for n in numbers} == {f"{inst.code}264"}
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, TOTAL + 1)), "a gap in the serials"


def test_issuers_racing_over_the_same_candidates_issue_each_once_with_consecutive_numbers():
    b = batch(24)
    import time_machine

    with time_machine.travel(AFTER_BATCH, tick=False):
        results.attendance_record(
            plan=b.plan, actor=b.staff, entries={c.pk: (Attendance.PRESENT, "") for c in b.candidates}
        )
        results.scores_save(
            plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "80", "practical": "75"} for c in b.candidates}
        )
        results.results_submit(plan=b.plan, actor=b.staff)
        results.results_accept(plan=b.plan, actor=b.centre)
    ids = [c.pk for c in b.candidates]

    def issue(worker: int) -> list[str]:
        order = ids if worker % 2 == 0 else list(reversed(ids))
        out = []
        for pk in order:
            candidate = Candidate.objects.select_related(
                "plan__institution", "plan__occupation__occupation", "student"
            ).get(pk=pk)
            out.append(issue_one(candidate=candidate, actor=b.staff, issued_on=ISSUED_ON).number)
        return out

    results_ = run_together([lambda w=w: issue(w) for w in range(WORKERS)])
    assert all(kind == "ok" for kind, _ in results_), results_
    stored = list(Certificate.objects.filter(plan=b.plan).values_list("candidate_id", "number"))
    assert sorted(c for c, _n in stored) == sorted(ids)  # one each
    assert sorted(int(n[-6:]) for _c, n in stored) == list(range(1, len(ids) + 1))
    for _kind, numbers in results_:  # every issuer was handed the stored certificate
        assert set(numbers) == {n for _c, n in stored}
