"""Scoped reads of the portal app."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from portal.models import Job, Notification, Occupation, OccupationKind, User


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
