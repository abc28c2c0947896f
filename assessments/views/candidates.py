"""Pages of a batch's candidates (see assessments.services.candidates)."""

from __future__ import annotations

from django.http import HttpRequest


def section_context(request: HttpRequest, plan) -> dict:
    """What the batch page's candidates section shows (template assessments/sections/candidates.html)."""
    return {}


urlpatterns: list = []
