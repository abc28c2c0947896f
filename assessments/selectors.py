"""Scoped reads of evaluation plans.

School staff see their institution's plans (drafts included); the city-wide authorities every
filed plan; a district bureau the filed plans of its district's schools; a person on a batch's
staff (监考、考评、内部督导) or assigned as its external supervisor that batch only, once filed;
anyone else none.
"""

from __future__ import annotations

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from assessments.models import (
    BatchStaff,
    Candidate,
    EvaluationPlan,
    FindingEvidence,
    PlanStatus,
    SupervisionAssignment,
)
from portal.access import is_citywide, users_with_roles
from portal.models import Role


def plan_list(*, user) -> QuerySet[EvaluationPlan]:
    base = EvaluationPlan.objects.select_related(
        "institution__school__organisation__district", "occupation__occupation", "site"
    )
    if not user.is_authenticated:
        return base.none()
    if is_citywide(user):
        return base.exclude(status=PlanStatus.DRAFT)
    assigned = Q(Exists(BatchStaff.objects.filter(plan=OuterRef("pk"), person=user))) | Q(
        Exists(SupervisionAssignment.objects.filter(plan=OuterRef("pk"), supervisor=user))
    )
    scope = assigned & ~Q(status=PlanStatus.DRAFT)
    if user.has_role(Role.SCHOOL_STAFF):
        scope |= Q(institution__school__organisation_id=user.organisation_id)
    if user.has_role(Role.DISTRICT_HR_OFFICER) and user.organisation.district_id:
        scope |= Q(institution__school__organisation__district_id=user.organisation.district_id) & ~Q(
            status=PlanStatus.DRAFT
        )
    return base.filter(scope)


def plan_detail(*, user, pk: int) -> EvaluationPlan:
    return get_object_or_404(plan_list(user=user).prefetch_related("events__actor"), pk=pk)


def with_list_columns(plans: QuerySet[EvaluationPlan]) -> QuerySet[EvaluationPlan]:
    """The batch list's columns in the list's own query: the candidates counted, the result filing joined."""
    counted = (
        Candidate.objects.filter(plan=OuterRef("pk")).order_by().values("plan").annotate(n=Count("pk")).values("n")
    )
    return plans.select_related("results").annotate(
        candidate_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0)
    )


def supervision_evidence(*, user, pk: int) -> FindingEvidence:
    """An external supervisor's evidence file, for whoever may see its batch (404 otherwise)."""
    return get_object_or_404(
        FindingEvidence.objects.select_related("finding__assignment"),
        pk=pk,
        finding__assignment__plan__in=plan_list(user=user).values("pk"),
    )


def school_staff(plan: EvaluationPlan):
    """The school's evaluation staff: who is told of a step on its batch."""
    return users_with_roles([Role.SCHOOL_STAFF], organisation=plan.institution.school.organisation)
