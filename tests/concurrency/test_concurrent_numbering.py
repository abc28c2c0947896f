"""Official numbers and workflow steps under concurrent use, on PostgreSQL (``pytest -k concurren``).

Each worker is a thread with its own database connection and its own transactions, started
together at a barrier, as several gunicorn workers would be.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction

from institutions import services
from institutions.models import ApplicationEvent, ApplicationStatus, FilingReceipt, Institution
from portal.models import Counter
from portal.numbering import next_number
from tests import factories
from tests.institutions.builders import Cast

WORKERS = 8

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks and concurrent transactions need PostgreSQL (CI runs these with DATABASE_URL)",
    ),
]


def run_together(jobs: list[Callable[[], object]]) -> list[tuple[str, object]]:
    """Run each job in its own thread and connection, all released at once; ('ok'|'error', value)."""
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, object] | None] = [None] * len(jobs)

    def worker(i: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", job())
        except Exception as exc:  # noqa: BLE001 - the test inspects what each worker met
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(not t.is_alive() for t in threads), "a worker hung"
    return results  # type: ignore[return-value]


def test_concurrent_counter_issues_gapless_unique_numbers_and_gives_back_rolled_back_ones():
    per_worker = 25

    def issue(worker: int) -> list[int]:
        kept = []
        for i in range(per_worker):
            try:
                with transaction.atomic():
                    value = next_number("test:concurrency")
                    if (worker + i) % 5 == 0:  # this document fails to save: its number must come back
                        raise RuntimeError("rolled back")
                kept.append(value)
            except RuntimeError:
                pass
        return kept

    results = run_together([lambda w=w: issue(w) for w in range(WORKERS)])
    assert all(kind == "ok" for kind, _ in results), results
    issued = [n for _kind, values in results for n in values]
    assert len(issued) == len(set(issued)), "a number was issued twice"
    assert sorted(issued) == list(range(1, len(issued) + 1)), "a gap in the numbers"
    assert Counter.objects.get(key="test:concurrency").value == len(issued)


def test_concurrent_confirmations_of_two_applications_both_succeed_with_consecutive_numbers():
    casts = [Cast(factories.school()), Cast(factories.school())]
    apps = [cast.consented() for cast in casts]

    def confirm(cast: Cast, app):
        receipt = services.filing_confirm(
            site_sequence=cast.site_sequence,
            application=app,
            actor=cast.centre,
            ministry_report_ref="人社鉴备〔2026〕12号",
            ministry_reported_on=app.created_at.date(),
        )
        return receipt.pk

    results = run_together([lambda c=c, a=a: confirm(c, a) for c, a in zip(casts, apps, strict=True)])
    assert [kind for kind, _ in results] == ["ok", "ok"], results
    receipts = list(FilingReceipt.objects.order_by("number"))
    assert len(receipts) == 2
    serials = sorted(int(r.number.split("〕")[1].rstrip("号")) for r in receipts)
    assert serials[1] == serials[0] + 1
    assert Institution.objects.values("site_sequence").distinct().count() == 2
    for app in apps:
        app.refresh_from_db()
        assert app.status == ApplicationStatus.FILED


def test_concurrent_double_submit_moves_the_application_once():
    cast = Cast(factories.school())
    app = cast.draft()

    results = run_together(
        [lambda: services.application_submit(application=app, actor=cast.staff, declared=True).pk] * 2
    )
    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, services.TransitionError)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED and app.round == 1
    assert ApplicationEvent.objects.filter(application=app, action="submit").count() == 1


def test_concurrent_expiry_runs_expire_each_entry_once():
    import datetime as dt

    cast = Cast(factories.school())
    _app, _receipt = cast.filed()
    inst = Institution.objects.get(school=cast.school)
    day_after = inst.valid_until + dt.timedelta(days=1)

    results = run_together([lambda: services.expiry_run(today=day_after)] * 4)
    assert all(kind == "ok" for kind, _ in results), results
    assert sum(r["expired_institutions"] for _k, r in results) == 1
    assert inst.events.filter(action="expire", occupation__isnull=True).count() == 1
    assert inst.events.filter(action="expire", occupation__isnull=False).count() == inst.occupations.count()
