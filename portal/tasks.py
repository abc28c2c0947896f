"""Celery tasks of the portal: thin wrappers around services, safe to run twice.

The database holds the work (job rows, the notification outbox); a task is only a doorbell.
Two beat jobs catch whatever a broker outage or a dead worker left behind:
``send_pending_emails`` and ``sweep_jobs``, every minute.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task
def run_job(job_id: int) -> None:
    from portal.services import job_run

    job_run(job_id=job_id)


@shared_task
def send_notification_emails(notification_ids: list[int]) -> int:
    """The on-commit kick for fresh notifications; the beat job sends whatever this misses."""
    from portal.services import notification_emails_send

    return notification_emails_send(ids=notification_ids)


@shared_task
def send_pending_emails() -> int:
    """Every minute: send due e-mails of the outbox (never sent, or due for a retry)."""
    from portal.services import notification_emails_send

    return notification_emails_send()


@shared_task
def sweep_jobs() -> dict:
    """Every minute: re-send jobs the broker never got; retry or fail jobs whose worker died."""
    from portal.services import job_sweep

    return job_sweep()


@shared_task
def check_calendar_coverage() -> int:
    from portal.services import calendar_coverage_check

    return calendar_coverage_check(today=timezone.localdate())
