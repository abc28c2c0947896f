"""``{% plan_changes plan as changes %}``: what a change to an accepted plan changed (assessments.services.staffing)."""

from __future__ import annotations

from django import template

from assessments.services import staffing

register = template.Library()


@register.simple_tag
def plan_changes(plan):
    return staffing.changes_since_accepted(plan)
