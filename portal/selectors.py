"""Scoped reads of the portal app."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from portal.models import CatalogueMajor, Job, MajorOccupation, Notification, Occupation, OccupationKind, User


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def job_list(*, user: User) -> QuerySet[Job]:
    """A user's own jobs; system administrators see every job."""
    qs = Job.objects.select_related("created_by", "organisation")
    if user.is_superuser:
        return qs
    return qs.filter(created_by=user)


def occupation_list(*, search: str = "", assessable_only: bool = False) -> QuerySet[Occupation]:
    qs = Occupation.objects.filter(is_active=True)
    if search:
        qs = qs.filter(Q(code__icontains=search) | Q(name__icontains=search) | Q(work_type__icontains=search))
    if assessable_only:
        qs = qs.filter(kind=OccupationKind.SKILL, is_access_type=False)
    return qs


# --- Major–occupation correspondence (annex §1.3: 院校设有与评价项目相对应的专业) ------------------


def major_catalogue_list(*, search: str = "") -> QuerySet[CatalogueMajor]:
    qs = CatalogueMajor.objects.filter(is_active=True).prefetch_related("occupations")
    if search:
        qs = qs.filter(
            Q(code__icontains=search) | Q(name__icontains=search) | Q(occupations__occupation_code__icontains=search)
        ).distinct()
    return qs


def corresponding_occupation_codes(major_codes: Iterable[str]) -> set[str]:
    """The occupation codes (职业, 细类) that any of these catalogue majors corresponds to, in one query."""
    codes = {c.strip() for c in major_codes if c}
    if not codes:
        return set()
    return set(
        MajorOccupation.objects.filter(major__code__in=codes, major__is_active=True).values_list(
            "occupation_code", flat=True
        )
    )


def major_codes_not_corresponding(*, major_codes: Iterable[str], occupation: Occupation) -> list[str]:
    """Of these catalogue major codes, those that do not correspond to ``occupation``, in one query.

    Empty when every major corresponds: the submit rule refuses an occupation row that lists any
    major returned here (or lists none). A code missing from the catalogue never corresponds.
    """
    codes = sorted({c.strip() for c in major_codes if c})
    if not codes:
        return []
    matched = set(
        MajorOccupation.objects.filter(
            major__code__in=codes, major__is_active=True, occupation_code=occupation.code
        ).values_list("major__code", flat=True)
    )
    return [c for c in codes if c not in matched]


def major_corresponds(major_code: str, occupation: Occupation) -> bool:
    """True when the catalogue major ``major_code`` corresponds to ``occupation`` (any work type)."""
    return not major_codes_not_corresponding(major_codes=[major_code], occupation=occupation)
