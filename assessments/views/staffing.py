"""Pages of a batch's staffing (see assessments.services.staffing)."""

from __future__ import annotations

from django.http import HttpRequest


def section_context(request: HttpRequest, plan) -> dict:
    """What the batch page's staffing section shows (template assessments/sections/staffing.html)."""
    return {}


urlpatterns: list = []
