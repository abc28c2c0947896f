"""Template helpers of the results clock (assessments.services.clock)."""

from __future__ import annotations

from django import template

from assessments.services.clock import days_overdue as _days_overdue

register = template.Library()


@register.filter
def days_overdue(plan) -> int:
    """Calendar days since the plan's results were due (0 on the day, before it, or while unknown)."""
    return _days_overdue(plan)
