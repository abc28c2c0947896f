from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task
def run_directory_expiry() -> dict:
    """Daily: 90/30/7-day reminders and automatic expiry at the end date (idempotent)."""
    from institutions.services import expiry_run

    return expiry_run(today=timezone.localdate())


@shared_task(autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def render_receipt(receipt_id: int) -> bool:
    """After a confirmation commits: the receipt's PDF (idempotent; retried on failure)."""
    from institutions.services import receipt_render

    return receipt_render(receipt_id=receipt_id)


@shared_task
def render_pending_receipts() -> int:
    """Sweep: receipts whose PDF a lost or failed task never rendered."""
    from institutions.services import receipts_render_pending

    return receipts_render_pending()
