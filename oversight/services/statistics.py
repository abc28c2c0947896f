"""Oversight: statistics services — refreshing the materialised figures (``Summary``).

``figures_refresh`` computes every certificate, result and overview figure of the city in one pass
of GROUP BY queries (``oversight.selectors.statistics.compute_figures``) and stores it as one row
(name ``certificates_by``, scope "" = the city). Run by Celery beat (``oversight.tasks.refresh_statistics``)
and by the centre on demand. Running it twice only moves the as-of time.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from oversight.models import Summary
from oversight.selectors import statistics as selectors


def figures_refresh(*, actor=None) -> Summary:
    """Recompute and store the city's figures. ``actor`` (when a person asks) must be the centre."""
    if actor is not None and not (actor.is_superuser or actor.has_role(*selectors.REFRESH_ROLES)):
        raise PermissionDenied
    data = selectors.compute_figures()
    with transaction.atomic():
        row, _created = Summary.objects.update_or_create(
            name=selectors.FIGURES, scope="", defaults={"data": data, "computed_at": timezone.now()}
        )
    return row
