"""Who may see and do what: the one place roles turn into querysets and refusals.

Views never filter by hand: they load objects through an app's selectors, which use the
helpers here. Outside a user's scope is a 404; the wrong role is a 403; anonymous is the
login page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from portal.models import OrganisationKind, Role

# Roles that see every school in the city (each only within what its own pages show).
CITYWIDE_ROLES: frozenset[str] = frozenset(
    {
        Role.CENTRE_REVIEWER,
        Role.COMMISSION_OFFICER,
        Role.COMMISSION_DEPT_OFFICER,
        Role.MUNICIPAL_HR_OFFICER,
        Role.SYSTEM_ADMIN,
    }
)
# Roles whose work is about schools (their records, students, filings, batches).
SCHOOL_VIEWER_ROLES: frozenset[str] = CITYWIDE_ROLES | {Role.DISTRICT_HR_OFFICER, Role.SCHOOL_STAFF}


def is_citywide(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*CITYWIDE_ROLES))


def school_scope(user, path: str = "") -> Q:
    """A Q object narrowing a queryset to the schools ``user`` may see.

    ``path`` leads from the queried model to School ("" for School itself, "school__" for a
    Student). Returns a Q that matches nothing for users with no school scope.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    if is_citywide(user):
        return Q()
    org = user.organisation
    if org is None:
        return Q(pk__in=[])
    scopes = Q(pk__in=[])
    if user.has_role(Role.DISTRICT_HR_OFFICER) and org.kind == OrganisationKind.DISTRICT_HR:
        scopes |= Q(**{f"{path}organisation__district_id": org.district_id})
    if user.has_role(Role.SCHOOL_STAFF) and org.kind == OrganisationKind.SCHOOL:
        scopes |= Q(**{f"{path}organisation_id": org.pk})
    return scopes


class RolesRequired(PermissionDenied):
    """A 403 that knows which roles would have been let in: the 403 page names them."""

    def __init__(self, roles: Iterable[str]) -> None:
        self.roles = tuple(roles)
        super().__init__("one of these roles is required: " + ", ".join(self.roles))


def require_roles(user, *roles: str) -> None:
    """Raise PermissionDenied (RolesRequired) unless the user holds one of ``roles`` (superusers pass)."""
    if not (user.is_authenticated and (user.is_superuser or user.has_role(*roles))):
        raise RolesRequired(roles)


def roles_required(*roles: str) -> Callable:
    """View decorator: anonymous users go to the login page; users without a role get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require_roles(request.user, *roles)
            return view(request, *args, **kwargs)

        wrapped.required_roles = frozenset(roles)  # read by the access-matrix test
        return wrapped

    return decorator


def login_only(view: Callable) -> Callable:
    """Any logged-in user; the view scopes what it shows to the user."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def public(view: Callable) -> Callable:
    """Marks a view as deliberately open to anonymous visitors."""
    view.is_public = True
    return view


def users_with_roles(roles: Iterable[str], organisation=None):
    from portal.models import User

    qs = User.objects.filter(is_active=True, roles__role__in=list(roles))
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    return qs.distinct()


# --- Object-level grants (django-guardian) ---------------------------------------------
# For people who act on single objects across organisations: an expert on one panel, a
# supervisor on one batch. Later apps grant on their own objects through these helpers.


def grant_object(user, perm: str, obj) -> None:
    from guardian.shortcuts import assign_perm

    assign_perm(perm, user, obj)


def revoke_object(user, perm: str, obj) -> None:
    from guardian.shortcuts import remove_perm

    remove_perm(perm, user, obj)


def objects_granted(user, perm: str, queryset):
    """The objects of ``queryset`` on which ``user`` holds ``perm`` by an object grant."""
    from guardian.shortcuts import get_objects_for_user

    if not user.is_authenticated:
        return queryset.none()
    return get_objects_for_user(
        user, perm, klass=queryset, use_groups=False, with_superuser=False, accept_global_perms=False
    )
