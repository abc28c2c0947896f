"""Celery tasks of oversight (summaries refreshed by beat). Each part adds its task below its heading."""

from celery import shared_task  # noqa: F401

# coverage


@shared_task
def refresh_coverage_task(school_year: int | None = None) -> dict:
    """Rebuild one school year's coverage rows (after an evaluation is recorded or withdrawn)."""
    from django.utils import timezone

    from oversight.services.coverage import refresh_coverage
    from schools.models import academic_year_of

    return refresh_coverage(school_year if school_year is not None else academic_year_of(timezone.localdate()))


@shared_task
def refresh_coverage_daily() -> list[dict]:
    """Daily (beat): the current school year, and the one before (its batches may be filed late)."""
    from django.utils import timezone

    from oversight.services.coverage import refresh_coverage
    from schools.models import academic_year_of

    current = academic_year_of(timezone.localdate())
    return [refresh_coverage(current - 1), refresh_coverage(current)]


# statistics


@shared_task(name="oversight.tasks.refresh_statistics")
def refresh_statistics() -> None:
    """Recompute the materialised certificate, result and overview figures (oversight.services.statistics)."""
    from oversight.services.statistics import figures_refresh

    figures_refresh()
