"""Violation cases: scoped reads (what pages, dashboards and exports count).

The city-wide authorities see every case; a district bureau the cases about institutions of its
district; school staff the cases about their own institution (read-only unless they may decide);
a staff member a case against them (the decision about them). Anyone else: none (404).
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from assessments.models import BatchRoom, BatchStaff, Candidate, Score, SupervisionAssignment
from assessments.services.results import parts_of
from certificates.models import Certificate
from oversight.models import CaseEvidence, CaseStatus, Sanction, ViolationCase
from portal.access import is_citywide
from portal.models import OrganisationKind, Role

__all__ = ["case_detail", "case_evidence", "cases_for", "open_case_count", "trace_back"]


def _scoped(user) -> QuerySet[ViolationCase]:
    """The cases ``user`` may read, nothing joined (what counts use)."""
    base = ViolationCase.objects.all()
    if not user.is_authenticated:
        return base.none()
    if is_citywide(user):
        return base
    scope = Q(person_id=user.pk)
    org = user.organisation
    if org is not None:
        if user.has_role(Role.SCHOOL_STAFF) and org.kind == OrganisationKind.SCHOOL:
            scope |= Q(institution__school__organisation_id=org.pk)
        if user.has_role(Role.DISTRICT_HR_OFFICER) and org.kind == OrganisationKind.DISTRICT_HR and org.district_id:
            scope |= Q(institution__school__organisation__district_id=org.district_id)
    return base.filter(scope)


def cases_for(user) -> QuerySet[ViolationCase]:
    """The cases ``user`` may read, with the list's columns joined (constant queries)."""
    counted = Sanction.objects.filter(case=OuterRef("pk")).order_by().values("case").annotate(n=Count("pk")).values("n")
    return (
        _scoped(user)
        .select_related("institution__school__organisation__district", "opened_by", "decided_by")
        .annotate(sanction_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
    )


def open_case_count(user) -> int:
    """Open cases in ``user``'s scope (the dashboards' figure; links to the list filtered on open)."""
    return _scoped(user).filter(status=CaseStatus.OPEN).count()


def case_detail(*, user, pk: int) -> ViolationCase:
    qs = cases_for(user).select_related(
        "candidate__student", "person", "occupation__occupation", "plan", "supervision__supervisor", "complaint"
    )
    case = get_object_or_404(qs, pk=pk)
    return case


def case_sanctions(case: ViolationCase) -> QuerySet[Sanction]:
    return case.sanctions.select_related(
        "candidate__student", "certificate", "barring", "institution", "occupation__occupation", "applied_by"
    )


def case_evidence(*, user, pk: int) -> CaseEvidence:
    """An evidence file, for whoever may read its case (404 otherwise)."""
    return get_object_or_404(CaseEvidence.objects.select_related("case"), pk=pk, case__in=_scoped(user).values("pk"))


def trace_back(case: ViolationCase) -> dict:
    """问题回溯 (notice 二(四)1): from the case to the batch, its rooms and staff, the candidate's
    attendance and scores, the certificates issued, and the supervision findings."""
    plan = case.plan
    out: dict = {"plan": plan, "rooms": [], "staff": [], "candidates": [], "certificates": [], "supervisions": []}
    if case.candidate_id:
        out["certificates"] = list(
            Certificate.objects.filter(
                Q(candidate_id=case.candidate_id) | Q(id_number=case.subject_id_number, institution=case.institution)
            ).order_by("issued_on", "number")
        )
    if plan is None:
        return out
    out["rooms"] = list(
        BatchRoom.objects.filter(plan=plan)
        .select_related("room")
        .prefetch_related(Prefetch("staff", queryset=BatchStaff.objects.select_related("person")))
        .order_by("starts_at", "pk")
    )
    out["staff"] = list(
        BatchStaff.objects.filter(plan=plan).select_related("person", "room__room").order_by("duty", "pk")
    )
    candidates = Candidate.objects.filter(plan=plan).select_related("student")
    if case.candidate_id:
        candidates = candidates.filter(pk=case.candidate_id)
    scores = Prefetch("scores", queryset=Score.objects.order_by("part"))
    out["candidates"] = list(candidates.prefetch_related(scores)[:200])
    labels = {part.code: part.label for part in parts_of(plan)}
    for c in out["candidates"]:
        c.score_rows = [(labels.get(s.part, s.part), s.value, s.substituted) for s in c.scores.all()]
    out["candidates_total"] = candidates.count()
    if not case.candidate_id:
        out["certificates"] = list(Certificate.objects.filter(plan=plan).order_by("number")[:200])
    out["supervisions"] = list(
        SupervisionAssignment.objects.filter(plan=plan)
        .select_related("supervisor")
        .prefetch_related("findings__evidence", "visits")
        .order_by("assigned_at")
    )
    return out
