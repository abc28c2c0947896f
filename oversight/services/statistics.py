"""Oversight: statistics services — refreshing the materialised figures (``Summary``).

``figures_refresh`` counts every certificate and result of the city once, in a fixed number of
GROUP BY queries (``oversight.selectors.statistics.compute_figures``), and stores one small row per
scope (name ``certificates_by``; scope "" = the city, "district:<code>", "school:<id>"): each holds
the grouped tables the pages show and the city overview's counts, so a page reads one row. Run by
Celery beat (``oversight.tasks.refresh_statistics``) and by the centre on demand. Running it twice
only moves the as-of time.

``subsidy_refresh`` (run by ``figures_refresh``) stores the subsidy list of the school years a reader
may choose (``SubsidyHolder``, one INSERT … SELECT) with its as-of time (``Summary`` name
``subsidy_holders``), so a page of a year of the city reads an index.

``workload_refresh`` (run by ``figures_refresh``) stores the teachers' workload of each year a reader
may choose, one row per person of the city (``Summary`` name ``workload``, scope "year:<year>"), so
a page reads one row and narrows it to the reader's scope.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from oversight.models import SubsidyHolder, Summary
from oversight.selectors import statistics as selectors


def figures_refresh(*, actor=None) -> Summary:
    """Recompute and store the figures of the city, every district and every school; returns the
    city's row. ``actor`` (when a person asks) must be the centre."""
    if actor is not None and not (actor.is_superuser or actor.has_role(*selectors.REFRESH_ROLES)):
        raise PermissionDenied
    subsidy_refresh()
    workload_refresh()
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


def subsidy_refresh() -> Summary:
    """Replace the stored subsidy list by the valid certificates of students graduating in the school
    years a reader may choose, in one transaction (readers see the old list until it commits)."""
    from schools.models import academic_year_of

    years = selectors.subsidy_years(academic_year_of(timezone.localdate()))
    sql, params = selectors.subsidy_source(years).query.sql_with_params()
    table = connection.ops.quote_name(SubsidyHolder._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in selectors.SUBSIDY_COLUMNS)
    now = timezone.now()
    with transaction.atomic():
        SubsidyHolder.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) {sql}", params)
            rows = cursor.rowcount
        marker, _created = Summary.objects.update_or_create(
            name=selectors.SUBSIDY,
            scope="",
            defaults={"data": {"first": years[0], "last": years[-1], "rows": rows}, "computed_at": now},
        )
    return marker


def workload_refresh() -> list[Summary]:
    """Replace the stored workload of the years a reader may choose by the city's per-person rows,
    computed as the page computes them live, in one transaction."""
    from django.db.models import Q

    years = selectors.workload_years(timezone.localdate().year)
    now = timezone.now()
    rows = [
        Summary(
            name=selectors.WORKLOAD,
            scope=f"year:{year}",
            data={"rows": [selectors.workload_row(p) for p in selectors.workload_people(Q(), year)]},
            computed_at=now,
        )
        for year in years
    ]
    with transaction.atomic():
        Summary.objects.filter(name=selectors.WORKLOAD).exclude(scope__in=[r.scope for r in rows]).delete()
        Summary.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["name", "scope"], update_fields=["data", "computed_at"]
        )
    return rows
