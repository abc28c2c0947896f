from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from portal.models import Notification


@shared_task
def run_job(job_id: int) -> None:
    from portal.services import job_run

    job_run(job_id=job_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
    sent = 0
    pending = Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related("recipient")
    for n in pending:
        if not n.recipient.email:
            continue
        body = n.body + (f"\n\n{n.link}" if n.link else "")
        send_mail(f"[{settings.PORTAL_NAME}] {n.title}", body, None, [n.recipient.email])
        # Conditional update: a retried task never mails the same notification twice.
        sent += Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
    return sent


@shared_task
def check_calendar_coverage() -> int:
    from portal.services import calendar_coverage_check

    return calendar_coverage_check(today=timezone.localdate())
