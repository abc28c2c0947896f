"""Oversight: statistics services — refreshing the materialised figures (``Summary``).

``figures_refresh`` counts every certificate and result of the city once, in a fixed number of
GROUP BY queries (``oversight.selectors.statistics.compute_figures``), and stores one small row per
scope (name ``certificates_by``; scope "" = the city, "district:<code>", "school:<id>"): each holds
the grouped tables the pages show and the city overview's counts, so a page reads one row. Run by
Celery beat (``oversight.tasks.refresh_statistics``) and by the centre on demand. Running it twice
only moves the as-of time.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from oversight.models import Summary
from oversight.selectors import statistics as selectors


def figures_refresh(*, actor=None) -> Summary:
    """Recompute and store the figures of the city, every district and every school; returns the
    city's row. ``actor`` (when a person asks) must be the centre."""
    if actor is not None and not (actor.is_superuser or actor.has_role(*selectors.REFRESH_ROLES)):
        raise PermissionDenied
    payloads = selectors.summarise(selectors.compute_figures())
    payloads.setdefault(
        "", selectors.summarise({"certificates": [], "results": [], "schools": [], "labels": {}}, only="")[""]
    )
    now = timezone.now()
    rows = [Summary(name=selectors.FIGURES, scope=key, data=data, computed_at=now) for key, data in payloads.items()]
    with transaction.atomic():
        Summary.objects.filter(name=selectors.FIGURES).exclude(scope__in=list(payloads)).delete()
        Summary.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["name", "scope"],
            update_fields=["data", "computed_at"],
            batch_size=500,
        )
    return Summary.objects.get(name=selectors.FIGURES, scope="")
