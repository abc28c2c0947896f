"""Scoped reads of evaluation plans.

School staff see their institution's plans (drafts included); the city-wide authorities every
filed plan; a district bureau the filed plans of its district's schools; anyone else none.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from assessments.models import EvaluationPlan, PlanStatus
from portal.access import is_citywide
from portal.models import Role


def plan_list(*, user) -> QuerySet[EvaluationPlan]:
    base = EvaluationPlan.objects.select_related(
        "institution__school__organisation__district", "occupation__occupation", "site"
    )
    if not user.is_authenticated:
        return base.none()
    if user.has_role(Role.SCHOOL_STAFF):
        return base.filter(institution__school__organisation_id=user.organisation_id)
    filed = base.exclude(status=PlanStatus.DRAFT)
    if is_citywide(user):
        return filed
    if user.has_role(Role.DISTRICT_HR_OFFICER) and user.organisation.district_id:
        return filed.filter(institution__school__organisation__district_id=user.organisation.district_id)
    return base.none()


def plan_detail(*, user, pk: int) -> EvaluationPlan:
    return get_object_or_404(plan_list(user=user).prefetch_related("events__actor"), pk=pk)
