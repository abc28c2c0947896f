"""Scoped reads of certificates (see DOMAIN.md, Lifecycle)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from certificates.models import Certificate, CertificateReport, StatusRequest
from portal.access import school_scope

# --- Records (certificate lists, requests, reports): scoped reads ---------------------------------
# School staff see their own institution's certificates; a district bureau its district's schools';
# the city-wide authorities all; anyone else none. Outside the scope is a 404.


def certificate_list(*, user) -> QuerySet:
    return Certificate.objects.filter(school_scope(user, "institution__school__"))


def certificate_detail(*, user, pk: int):
    return get_object_or_404(
        certificate_list(user=user).select_related("supersedes", "institution__school", "plan", "report"),
        pk=pk,
    )


def request_list(*, user) -> QuerySet:
    return StatusRequest.objects.filter(school_scope(user, "certificate__institution__school__")).select_related(
        "certificate", "requested_by", "decided_by", "replacement"
    )


def request_detail(*, user, pk: int):
    return get_object_or_404(request_list(user=user).prefetch_related("events__actor"), pk=pk)


def report_list(*, user) -> QuerySet:
    return CertificateReport.objects.filter(school_scope(user, "plan__institution__school__")).select_related(
        "plan__institution__school__organisation", "plan__occupation__occupation", "submitted_by", "received_by"
    )


def unreported_list(*, user) -> QuerySet:
    """Certificates in the user's scope issued more than the reporting period ago and not reported."""
    from certificates.services.reporting import unreported

    # The scope as a condition on the same table (not ``pk IN (every certificate in scope)``): at city
    # scale the count then reads only the unreported rows.
    return unreported().filter(school_scope(user, "institution__school__"))


def plans_to_report(*, user) -> QuerySet:
    """School staff: their batches with certificates not reported yet, each with that number."""
    from django.db.models import Count, Q

    from assessments.selectors import plan_list

    return (
        plan_list(user=user)
        .filter(institution__school__organisation_id=user.organisation_id)
        .annotate(unreported=Count("certificates", filter=Q(certificates__report__isnull=True)))
        .filter(unreported__gt=0)
    )


def report_detail(*, user, pk: int):
    return get_object_or_404(report_list(user=user), pk=pk)


# --- Issuance (a batch's certificates): the batches whose certificates a user may see ----------------
# The same scope as the certificates: the school's staff their institution's batches, a district
# bureau its district's, the city-wide authorities all; a batch's examiners or supervisors none.


def issuance_plans(*, user) -> QuerySet:
    from assessments.models import EvaluationPlan, PlanStatus

    return (
        EvaluationPlan.objects.filter(school_scope(user, "institution__school__"))
        .exclude(status=PlanStatus.DRAFT)
        .select_related("institution__school", "occupation__occupation", "results")
    )


def issuance_plan(*, user, pk: int):
    return get_object_or_404(issuance_plans(user=user), pk=pk)
