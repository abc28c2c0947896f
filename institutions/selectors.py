"""Scoped reads of applications, institutions and the public directory."""

from __future__ import annotations

import datetime as dt

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q, QuerySet

from institutions.models import (
    OPEN_STATUSES,
    ApplicationStatus,
    AssessmentSite,
    FilingApplication,
    Institution,
    InstitutionOccupation,
    InstitutionStatus,
)
from portal.access import CITYWIDE_ROLES, objects_granted, school_scope
from portal.models import Role

EVALUATE_PERM = "institutions.evaluate_filingapplication"


def application_list(*, user) -> QuerySet[FilingApplication]:
    """School staff: their school's applications. Authorities: every application once submitted.
    District bureaus: those of schools in their district. Experts: the ones they were granted."""
    base = FilingApplication.objects.select_related("school__organisation__district", "institution")
    if not user.is_authenticated:
        return base.none()
    scope = Q(pk__in=[])
    if user.has_role(Role.SCHOOL_STAFF):
        scope |= Q(school__organisation_id=user.organisation_id)
    submitted = ~Q(status=ApplicationStatus.DRAFT) & ~Q(round=0)
    if user.is_superuser or user.has_role(*CITYWIDE_ROLES):
        scope |= submitted
    elif user.has_role(Role.DISTRICT_HR_OFFICER):
        scope |= submitted & school_scope(user, "school__")
    if user.has_role(Role.EXPERT):
        granted = objects_granted(user, EVALUATE_PERM, FilingApplication.objects.all()).values("pk")
        scope |= Q(pk__in=granted)
    return base.filter(scope).distinct()


# The list's status filter: one status, or every application still in progress (OPEN_STATUSES).
IN_PROGRESS = "in_progress"


def application_list_filtered(*, user, status: str = "") -> QuerySet[FilingApplication]:
    """The application list as its page filters it (the role dashboards count the same)."""
    applications = application_list(user=user)
    if status == IN_PROGRESS:
        return applications.filter(status__in=OPEN_STATUSES)
    if status:
        return applications.filter(status=status)
    return applications


def application_detail(*, user, pk: int) -> FilingApplication:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        application_list(user=user)
        .select_related("declared_by", "panel__agreed_by", "panel__formed_by")
        .prefetch_related(
            "answers__evidence",
            "occupations__occupation",
            "occupations__majors",
            "events__actor",
            "consents__decided_by",
            "panel__members__expert",
            "panel__findings__expert",
            "panel__occupation_judgements__expert",
            "sites__rooms",
        ),
        pk=pk,
    )


def institution_list(*, user) -> QuerySet[Institution]:
    qs = Institution.objects.select_related("school__organisation__district")
    if user.is_superuser or user.has_role(*CITYWIDE_ROLES):
        return qs
    return qs.filter(school_scope(user, "school__"))


def occupation_rows_matching(*, occupation: str = "", level: int | None = None, prefix: str = "") -> Q:
    """The directory rows an occupation/level search matches (``prefix`` reaches them from another model).

    One definition for the search, the highlight of matched rows and the export.
    """
    row = Q()
    if occupation:
        row &= (
            Q(**{f"{prefix}occupation__name__icontains": occupation})
            | Q(**{f"{prefix}occupation__code__startswith": occupation})
            | Q(**{f"{prefix}occupation__work_type__icontains": occupation})
        )
    if level:
        # The institution assesses ``level`` when lowest_level >= level >= highest_level (digits).
        row &= Q(**{f"{prefix}lowest_level__gte": level, f"{prefix}highest_level__lte": level})
    return row


def directory(
    *,
    q: str = "",
    district_id: int | None = None,
    occupation: str = "",
    level: int | None = None,
    include_inactive: bool = True,
) -> QuerySet[Institution]:
    """The public directory: filed institutions with their occupations (§3.5).

    ``q`` is part of the institution's name (full or short). Suspended and removed entries stay
    listed with their status and public reason; expired ones too, so the public can see why a
    certificate body is no longer valid.
    """
    qs = Institution.objects.select_related("school__organisation__district").prefetch_related(
        directory_occupations(occupation=occupation, level=level), directory_sites()
    )
    if not include_inactive:
        qs = qs.filter(status=InstitutionStatus.ACTIVE)
    if q:
        qs = qs.filter(Q(school__organisation__name__icontains=q) | Q(school__organisation__short_name__icontains=q))
    if district_id:
        qs = qs.filter(school__organisation__district_id=district_id)
    row = occupation_rows_matching(occupation=occupation, level=level, prefix="occupations__")
    if row:
        # One filter() call, so occupation and level must hold on the same directory row.
        qs = qs.filter(row)
    return qs.distinct().order_by("school__organisation__district__code", "school__organisation__name")


def registry_list(*, user, status: str = "", **filters) -> QuerySet[Institution]:
    """The registry page: the directory's search (``filters``) within the user's scope, one status or all."""
    qs = directory(**filters).filter(pk__in=institution_list(user=user).values("pk"))
    if status:
        qs = qs.filter(status=status)
    return qs


def directory_occupations(*, occupation: str = "", level: int | None = None) -> Prefetch:
    """The occupations of directory entries, in catalogue order with their catalogue rows (a prefetch:
    views that serve cached entries drop it and prefetch only for the entries they render).

    With an occupation or level search, each row carries ``matched`` and the matched rows come first.
    """
    rows = InstitutionOccupation.objects.select_related("occupation")
    match = occupation_rows_matching(occupation=occupation, level=level)
    if match:
        rows = rows.annotate(matched=ExpressionWrapper(match, output_field=BooleanField())).order_by(
            "-matched", "occupation__code"
        )
    else:
        rows = rows.order_by("occupation__code")
    return Prefetch("occupations", queryset=rows)


def directory_sites() -> Prefetch:
    """An institution's assessment sites with their exam rooms (listed at confirmation)."""
    return Prefetch("sites", queryset=AssessmentSite.objects.prefetch_related("rooms").order_by("id"))


def directory_export_rows(
    institutions: QuerySet[Institution], *, occupation: str = "", level: int | None = None
) -> QuerySet[InstitutionOccupation]:
    """One row per directory occupation of ``institutions`` (the rows the search matched, when it names
    an occupation or a level), with everything the export prints: one query whatever the size."""
    rows = InstitutionOccupation.objects.filter(institution__in=institutions.order_by().values("pk"))
    match = occupation_rows_matching(occupation=occupation, level=level)
    if match:
        rows = rows.filter(match)
    return rows.select_related("institution__school__organisation__district", "occupation").order_by(
        "institution__school__organisation__district__code",
        "institution__school__organisation__name",
        "occupation__code",
        "occupation__work_type",
    )


def plannable_occupations(*, institution: Institution, on: dt.date) -> QuerySet[InstitutionOccupation]:
    """Occupations a batch plan may use on ``on``: institution and occupation active and in date.

    Expired, suspended or removed entries cannot be planned against (the assessments app asks here).
    """
    if not institution.is_valid_on(on):
        return InstitutionOccupation.objects.none()
    return institution.occupations.filter(status=InstitutionStatus.ACTIVE, valid_until__gte=on).select_related(
        "occupation"
    )


# --- Objects reached from an application or an institution in scope -----------------------


def evidence_in_scope(*, user, pk: int):
    """An evidence file of an application the user may see, else 404."""
    from django.shortcuts import get_object_or_404

    from institutions.models import EvidenceFile

    return get_object_or_404(
        EvidenceFile.objects.select_related("answer__application__school__organisation"),
        pk=pk,
        answer__application__in=application_list(user=user).values("pk"),
    )


def applied_occupation_in_scope(*, user, pk: int):
    """An occupation applied for in an application the user may see, else 404."""
    from django.shortcuts import get_object_or_404

    from institutions.models import AppliedOccupation

    return get_object_or_404(
        AppliedOccupation.objects.select_related("application__school__organisation", "occupation"),
        pk=pk,
        application__in=application_list(user=user).values("pk"),
    )


def occupation_choices():
    """The active catalogue entries a school may apply for (rules are checked on submit)."""
    from portal.models import Occupation

    return Occupation.objects.filter(is_active=True).order_by("code", "work_type")


def registry_detail(*, user, pk: int) -> Institution:
    """An institution in the user's scope with its occupations and receipts, else 404."""
    from django.shortcuts import get_object_or_404

    from institutions.models import FilingReceipt

    rows = InstitutionOccupation.objects.select_related("occupation").order_by("occupation__code")
    receipts = FilingReceipt.objects.select_related("issued_by", "application").order_by("-issued_at")
    return get_object_or_404(
        institution_list(user=user).prefetch_related(
            Prefetch("occupations", queryset=rows), Prefetch("receipts", queryset=receipts), directory_sites()
        ),
        pk=pk,
    )


def site_in_scope(*, user, pk: int):
    """An assessment site of an application the user may see, else 404."""
    from django.shortcuts import get_object_or_404

    from institutions.models import AssessmentSite

    return get_object_or_404(
        AssessmentSite.objects.select_related("application__school__organisation"),
        pk=pk,
        application__in=application_list(user=user).values("pk"),
    )


def room_in_scope(*, user, pk: int):
    """An exam room of an application the user may see, else 404."""
    from django.shortcuts import get_object_or_404

    from institutions.models import ExamRoom

    return get_object_or_404(
        ExamRoom.objects.select_related("site__application__school__organisation"),
        pk=pk,
        site__application__in=application_list(user=user).values("pk"),
    )


def institution_of(user) -> Institution | None:
    """The filed institution of a school staff member's own school, if any."""
    if not user.is_authenticated or not user.has_role(Role.SCHOOL_STAFF):
        return None
    return Institution.objects.filter(school__organisation_id=user.organisation_id).select_related("school").first()
