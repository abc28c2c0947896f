"""Pages of a batch's results (see assessments.services.results)."""

from __future__ import annotations

from django.http import HttpRequest


def section_context(request: HttpRequest, plan) -> dict:
    """What the batch page's results section shows (template assessments/sections/results.html)."""
    return {}


urlpatterns: list = []
