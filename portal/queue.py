"""Queueing background work so that a dead broker never costs a user their saved change.

``enqueue_on_commit(task, *args)`` sends the task once the surrounding transaction commits.
If the broker (Redis) cannot be reached the error is logged, not raised: the change the user
made is already committed and the page answers normally. Work that must happen whatever the
broker does (documents to render, e-mails to send, jobs to run) is also recorded in the
database, and a periodic sweep picks up whatever never reached a worker.
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)

__all__ = ["enqueue", "enqueue_on_commit"]


def enqueue(task, *args, **kwargs) -> bool:
    """Send ``task`` now; False (logged) when the broker cannot take it."""
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except Exception:  # noqa: BLE001 - kombu/redis raise many kinds; the sweep retries later
        logger.warning("could not queue %s%r; the periodic sweep will retry", getattr(task, "name", task), args)
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send ``task`` after the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))
