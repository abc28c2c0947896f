"""Queueing background work so that a dead broker never costs a user their saved change.

``enqueue_on_commit(task, *args)`` sends the task once the surrounding transaction commits.
If the broker (Redis) cannot be reached the error is logged, not raised: the change the user
made is already committed and the page answers normally. Work that must happen whatever the
broker does (documents to render, e-mails to send, jobs to run) is also recorded in the
database, and a periodic sweep picks up whatever never reached a worker
(``portal.tasks.send_pending_emails``, ``portal.tasks.sweep_jobs``).

A failed send costs one short connection attempt; for the next ``PORTAL_BROKER_BACKOFF_SECONDS``
(10 s) this process does not try that broker again, so an outage does not add a connection
timeout to every request. Eager mode (no broker: tests, ``make run``) runs the task in-process.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

__all__ = ["enqueue", "enqueue_on_commit"]

# One quick retry covers a pooled connection that Redis closed; a longer wait would be the user's.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}

# broker URL -> time.monotonic() until which this process does not try it again
_broker_down_until: dict[str, float] = {}


def _backoff_seconds() -> float:
    return float(getattr(settings, "PORTAL_BROKER_BACKOFF_SECONDS", 10))


def enqueue(task, *args, **kwargs) -> bool:
    """Send ``task`` now; False (logged) when the broker cannot take it."""
    name = getattr(task, "name", task)
    app = getattr(task, "app", None)
    eager = bool(app and app.conf.task_always_eager)
    broker = "" if eager or app is None else str(app.conf.broker_url)
    if broker and _broker_down_until.get(broker, 0) > time.monotonic():
        logger.info("broker unavailable, not queueing %s%r now; the periodic sweep will send it", name, args)
        return False
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many kinds; the sweep retries later
        if eager:  # the task itself failed in-process: its own retry/sweep logic applies
            logger.exception("task %s%r failed in-process", name, args)
            return False
        _broker_down_until[broker] = time.monotonic() + _backoff_seconds()
        logger.warning(
            "could not queue %s%r (%s: %s); the periodic sweep will retry", name, args, type(exc).__name__, exc
        )
        return False
    _broker_down_until.pop(broker, None)
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send ``task`` after the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs), robust=True)


def reset_broker_connections(app) -> None:
    """Forget pooled broker connections and the outage memory (after the broker URL changed)."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # kombu's process-wide connection and producer pools, keyed by connection
    _broker_down_until.clear()
