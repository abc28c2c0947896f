"""Scoped reads of schools, majors and students. Views load these objects only through here."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from portal.access import school_scope
from schools.models import Major, School, Student, ThroughProgramme, graduating_year_bounds


def school_list(*, user) -> QuerySet[School]:
    return (
        School.objects.filter(school_scope(user))
        .select_related("organisation", "organisation__district")
        .order_by("organisation__district__code", "organisation__name")
    )


def _count(queryset: QuerySet) -> Coalesce:
    """The number of rows of ``queryset`` per school, as a correlated subquery (0 when none).

    Each relation is counted in its own subquery, which an index on (school, ...) answers
    alone: joining majors and students in one query and counting distinct ids made the
    product of the two (millions of rows at city scale) before counting.
    """
    counted = queryset.filter(school=OuterRef("pk")).order_by().values("school").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def school_list_with_counts(
    *,
    user,
    on: dt.date,
    search: str = "",
    district_id: int | None = None,
    graduating_only: bool = False,
    unfiled_only: bool = False,
) -> QuerySet[School]:
    """Schools in the user's scope with their numbers of majors, students and graduating-year
    students (``graduating_only``: that last number only); ``search`` matches a part of the name,
    ``district_id`` keeps one district, ``unfiled_only`` the schools not (yet) filed as an
    assessment institution (no directory entry; the reverse name is all this app knows of it)."""
    start, end = graduating_year_bounds(on)
    qs = school_list(user=user)
    if unfiled_only:
        qs = qs.filter(institution__isnull=True)
    if search:
        qs = qs.filter(Q(organisation__name__icontains=search) | Q(organisation__short_name__icontains=search))
    if district_id:
        qs = qs.filter(organisation__district_id=district_id)
    graduating = _count(Student.objects.filter(expected_graduation__gte=start, expected_graduation__lte=end))
    if graduating_only:
        return qs.annotate(graduating_count=graduating)
    return qs.annotate(
        major_count=_count(Major.objects.all()),
        student_count=_count(Student.objects.all()),
        graduating_count=graduating,
        through_major_count=_count(Major.objects.filter(is_active=True, is_through_programme=True)),
    )


def major_list(*, user, school: School | None = None) -> QuerySet[Major]:
    qs = Major.objects.filter(school_scope(user, "school__")).select_related("school__organisation")
    if school is not None:
        qs = qs.filter(school=school)
    return qs


def student_list(
    *,
    user,
    school: School | None = None,
    major_id: int | None = None,
    search: str = "",
    graduating_on: dt.date | None = None,
) -> QuerySet[Student]:
    qs = Student.objects.filter(school_scope(user, "school__")).select_related("major", "school__organisation")
    if school is not None:
        qs = qs.filter(school=school)
    if major_id:
        qs = qs.filter(major_id=major_id)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(student_number__icontains=search) | Q(id_number=search.upper()))
    if graduating_on is not None:
        start, end = graduating_year_bounds(graduating_on)
        qs = qs.filter(expected_graduation__gte=start, expected_graduation__lte=end)
    return qs


def school_of(user) -> School | None:
    """The school a school-staff user works for."""
    org = user.organisation
    if org is None or org.kind != "school":
        return None
    return School.objects.filter(organisation=org).select_related("organisation__district").first()


def through_programme_list(*, user, school: School) -> QuerySet[ThroughProgramme]:
    return ThroughProgramme.objects.filter(school_scope(user, "major__school__"), major__school=school).select_related(
        "major", "recorded_by"
    )


def through_programme_in_scope(*, user, pk: int) -> ThroughProgramme:
    """One recorded through-programme the user may see (404 otherwise)."""
    from django.shortcuts import get_object_or_404

    qs = ThroughProgramme.objects.filter(school_scope(user, "major__school__")).select_related(
        "major__school__organisation"
    )
    return get_object_or_404(qs, pk=pk)
