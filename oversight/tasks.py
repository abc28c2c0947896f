"""Celery tasks of oversight (summaries refreshed by beat). Each part adds its task below its heading."""

from celery import shared_task  # noqa: F401
