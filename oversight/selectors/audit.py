"""Oversight: audit selectors — the log as each reader may see it, and one object's history.

Who reads the log (``AUDIT_ROLES``): the centre's reviewers, system administrators and the
municipal HR bureau read every entry; a district bureau the entries of organisations in its
district; school staff their own organisation's. Anyone else none (403 at the view).

One object's history: the reader must be able to see the object itself, checked with the owning
app's scoped selector (``OBJECT_SCOPES``). For a type with no such selector here, only the
city-wide log readers (centre, administrators, municipal HR) see its history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from oversight.models import AuditEntry
from portal.models import OrganisationKind, Role

AUDIT_CITYWIDE_ROLES = frozenset({Role.CENTRE_REVIEWER, Role.SYSTEM_ADMIN, Role.MUNICIPAL_HR_OFFICER})
AUDIT_ROLES = AUDIT_CITYWIDE_ROLES | {Role.DISTRICT_HR_OFFICER, Role.SCHOOL_STAFF}


def reads_whole_log(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*AUDIT_CITYWIDE_ROLES))


def entry_scope(user) -> Q:
    """The entries ``user`` may read (a Q on AuditEntry; matches nothing outside AUDIT_ROLES)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if reads_whole_log(user):
        return Q()
    org = user.organisation
    scope = Q(pk__in=[])
    if org is None:
        return scope
    if user.has_role(Role.DISTRICT_HR_OFFICER) and org.kind == OrganisationKind.DISTRICT_HR and org.district_id:
        # By the district's organisation ids (a subquery): the (organisation, at) index answers it
        # instead of a join on every entry.
        from portal.models import Organisation

        scope |= Q(organisation_id__in=Organisation.objects.filter(district_id=org.district_id).values("pk"))
    if user.has_role(Role.SCHOOL_STAFF) and org.kind == OrganisationKind.SCHOOL:
        scope |= Q(organisation_id=org.pk)
    return scope


def entry_list(
    *,
    user,
    user_id: int | None = None,
    organisation_id: int | None = None,
    content_type_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[AuditEntry]:
    """The log in the reader's scope, filtered; newest first; user, organisation and type joined."""
    qs = AuditEntry.objects.filter(entry_scope(user))
    if user_id:
        qs = qs.filter(user_id=user_id)
    if organisation_id:
        qs = qs.filter(organisation_id=organisation_id)
    if content_type_id:
        qs = qs.filter(content_type_id=content_type_id)
    if date_from:
        qs = qs.filter(at__gte=_start_of(date_from))
    if date_to:
        qs = qs.filter(at__lt=_start_of(date_to + dt.timedelta(days=1)))
    return qs.select_related("user", "organisation", "content_type").order_by("-at", "-id")


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- One object's history: may the reader see the object? -----------------------------------------


def _in(queryset_of_user: Callable) -> Callable:
    def check(user, object_id: str) -> bool:
        return queryset_of_user(user).filter(pk=object_id).exists()

    return check


def _object_scopes() -> dict[str, Callable]:
    from assessments.models import BatchStaff, Candidate
    from assessments.selectors import plan_list
    from certificates import selectors as certificates
    from institutions.selectors import application_list, institution_list
    from portal.access import school_scope
    from schools.models import Major, School, Student

    return {
        "schools.school": _in(lambda u: School.objects.filter(school_scope(u))),
        "schools.major": _in(lambda u: Major.objects.filter(school_scope(u, "school__"))),
        "schools.student": _in(lambda u: Student.objects.filter(school_scope(u, "school__"))),
        "institutions.filingapplication": _in(lambda u: application_list(user=u)),
        "institutions.institution": _in(lambda u: institution_list(user=u)),
        "assessments.evaluationplan": _in(lambda u: plan_list(user=u)),
        "assessments.candidate": _in(lambda u: Candidate.objects.filter(plan__in=plan_list(user=u).values("pk"))),
        "assessments.batchstaff": _in(lambda u: BatchStaff.objects.filter(plan__in=plan_list(user=u).values("pk"))),
        "certificates.certificate": _in(lambda u: certificates.certificate_list(user=u)),
        "certificates.statusrequest": _in(lambda u: certificates.request_list(user=u)),
    }


def object_history(*, user, content_type_id: int, object_id: str) -> tuple[ContentType, QuerySet[AuditEntry]]:
    """The type and the log entries of one object, if ``user`` may see the object (404 otherwise)."""
    if not user.is_authenticated:
        raise Http404
    try:
        ct = ContentType.objects.get_for_id(content_type_id)
    except ContentType.DoesNotExist:
        raise Http404 from None
    if not reads_whole_log(user):
        check = _object_scopes().get(f"{ct.app_label}.{ct.model}")
        try:
            allowed = check is not None and check(user, object_id)
        except (ValueError, TypeError):
            allowed = False
        if not allowed:
            raise Http404
    entries = (
        AuditEntry.objects.filter(content_type_id=ct.pk, object_id=str(object_id))
        .select_related("user", "organisation")
        .order_by("-at", "-id")
    )
    return ct, entries


def audit_link_kwargs(obj) -> dict:
    """The URL kwargs of ``oversight:audit_object`` for any model instance (the per-object link helper)."""
    return {"ct": ContentType.objects.get_for_model(obj.__class__).pk, "object_id": str(obj.pk)}


def who_matches(text: str) -> Q:
    """The acting user by a part of the username or name."""
    text = text.strip()
    return Q(user__username__icontains=text) | Q(user__full_name__icontains=text)


def audit_url(obj) -> str:
    """The link to one object's history page (``oversight:audit_object``); the page itself checks
    that the reader may see the object."""
    from django.urls import reverse

    return reverse("oversight:audit_object", kwargs=audit_link_kwargs(obj))
