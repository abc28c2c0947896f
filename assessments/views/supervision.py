"""Pages of a batch's supervision (see assessments.services.supervision)."""

from __future__ import annotations

from django.http import HttpRequest


def section_context(request: HttpRequest, plan) -> dict:
    """What the batch page's supervision section shows (template assessments/sections/supervision.html)."""
    return {}


urlpatterns: list = []
