"""Who is told about a step, and how: notifications stored in every reader's language."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from institutions.models import FilingApplication
from portal.access import users_with_roles
from portal.i18n import stored
from portal.models import Role, User
from portal.services import notify


def application_link(app: FilingApplication) -> str:
    return reverse("institutions:application_detail", args=[app.pk])


def school_staff(school):
    return users_with_roles([Role.SCHOOL_STAFF], organisation=school.organisation)


def role_holders(*roles: str):
    return users_with_roles(list(roles))


def as_stored(text) -> str:
    """A lazy translation becomes stored text; typed text (a comment) stays as typed."""
    if isinstance(text, Promise):
        return stored(text)
    return text or ""


def tell(recipients: Iterable[User], app: FilingApplication, title: Promise, body="") -> None:
    """Notify about ``app``; the title names the school, each reader sees it in their language."""
    notify(
        recipients=list(recipients),
        title=stored(gettext_lazy("%(title)s：%(school)s"), title=title, school=app.school.name),
        body=as_stored(body),
        link=application_link(app),
    )
