"""Tasks of the certificates app (issue jobs run through portal.jobs; see DOMAIN.md, Lifecycle)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def flush_verification_log() -> int:
    """Every few seconds (beat) and when enough are waiting: public lookups queued in Redis into the log table."""
    from certificates.services.verification import flush_log

    return flush_log()
