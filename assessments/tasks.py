"""Celery tasks of the assessments app: thin wrappers around services, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task
def run_results_deadlines() -> dict:
    """Daily: remind schools 2 working days before the results are due and on the day; after it,
    mark the batch overdue and tell the centre and the district bureau (assessments.services.clock)."""
    from assessments.services.clock import results_deadlines_run

    return results_deadlines_run(today=timezone.localdate()).as_dict()
