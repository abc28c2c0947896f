"""Overdue results: batches whose 5-working-day deadline has passed (assessments.services.clock),
as far as the user's scope reaches (centre and city: all; district bureau: its district's schools;
school: its own)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from assessments.services import clock
from portal.access import SCHOOL_VIEWER_ROLES, roles_required

RELATED = ("institution__school__organisation__district", "occupation__occupation", "results")


@roles_required(*SCHOOL_VIEWER_ROLES)
def overdue_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    overdue = clock.overdue_plans(request.user).select_related(*RELATED)
    page = Paginator(overdue, 50).get_page(request.GET.get("page"))
    rows = [(plan, clock.days_overdue(plan, today)) for plan in page]
    late = list(clock.late_plans(request.user).select_related(*RELATED)[:50])
    return render(
        request,
        "assessments/overdue.html",
        {
            "page": page,
            "rows": rows,
            "late": late,
            "today": today,
            "working_days": clock.results_working_days(),
        },
    )
