"""Oversight: complaints selectors (what pages, dashboards and exports count).

The centre's reviewers and the municipal HR bureau read every complaint; a district bureau those
about an institution of its district; nobody else (a complaint naming no institution is read
city-wide only).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from oversight.models import Complaint, ComplaintStatus
from portal.models import OrganisationKind, Role

READER_ROLES = (Role.CENTRE_REVIEWER, Role.MUNICIPAL_HR_OFFICER, Role.DISTRICT_HR_OFFICER)


def complaints_for(user) -> QuerySet[Complaint]:
    base = Complaint.objects.select_related("institution__school__organisation__district", "answered_by")
    if not user.is_authenticated:
        return base.none()
    if user.is_superuser or user.has_role(Role.CENTRE_REVIEWER, Role.MUNICIPAL_HR_OFFICER):
        return base
    org = user.organisation
    if user.has_role(Role.DISTRICT_HR_OFFICER) and org is not None and org.kind == OrganisationKind.DISTRICT_HR:
        return base.filter(Q(institution__school__organisation__district_id=org.district_id))
    return base.none()


def pending_complaint_count(user) -> int:
    """Complaints waiting for the centre's triage (待处理) that ``user`` may read."""
    return complaints_for(user).filter(status=ComplaintStatus.RECEIVED).count()


def complaint_detail(*, user, pk: int) -> Complaint:
    return get_object_or_404(complaints_for(user).prefetch_related("events__actor"), pk=pk)
