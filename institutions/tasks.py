from __future__ import annotations

from celery import shared_task
from django.utils import timezone


@shared_task
def run_directory_expiry() -> dict:
    """Daily: 90/30/7-day reminders and automatic expiry at the end date (idempotent)."""
    from institutions.services import expiry_run

    return expiry_run(today=timezone.localdate())
