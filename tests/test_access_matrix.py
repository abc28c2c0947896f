"""Every URL of the portal, as every role and as an anonymous visitor.

Adding a URL without an expectation for each role fails ``test_every_url_has_an_expectation``.
In scope: 200 (or the page's redirect); wrong role: 403; outside the user's scope: 404;
anonymous: the login page (302) unless the page is public.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.access import CITYWIDE_ROLES
from portal.models import Role
from portal.services import notify
from tests import access_expectations, factories
from tests.conftest import client_for

ANON = "anonymous"
ROLES = [*Role.values, ANON]
CITY = {str(r) for r in CITYWIDE_ROLES}
STAFF = Role.SCHOOL_STAFF.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
OUTSIDERS = {Role.EXPERT.value, Role.QUALITY_SUPERVISOR.value}
LOGGED_IN = set(Role.values)


def table(default: int, anon: int = 302, **codes: int) -> dict[str, int]:
    out = {role: default for role in Role.values}
    out.update(codes)
    out[ANON] = anon
    return out


def for_roles(ok: int, roles: set[str], other: int = 403, anon: int = 302) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, ANON: anon}


SCHOOL_VIEWERS = CITY | {STAFF, DISTRICT}

# url name -> (object key for kwargs or None, {role: status}); object keys are built in ``objects``.
EXPECTATIONS: dict[str, tuple[str | None, dict[str, int]]] = {
    "home": (None, table(200)),
    "login": (None, table(302, anon=200)),
    "logout": (None, table(405, anon=405)),
    "password_change": (None, table(200)),
    "password_change_done": (None, table(200)),
    "set_language": (None, table(302, anon=302)),
    "notification_list": (None, table(200)),
    "notification_open": ("notification", table(405)),
    "notification_read_all": (None, table(405)),
    "job_list": (None, table(200)),
    "job_detail": ("job", table(404, **{STAFF: 200})),
    "occupation_list": (None, for_roles(200, SCHOOL_VIEWERS)),
    "occupation_import": (None, for_roles(200, {Role.SYSTEM_ADMIN.value})),
    "occupation_template": (None, for_roles(200, {Role.SYSTEM_ADMIN.value})),
    "calendar": (None, for_roles(200, SCHOOL_VIEWERS)),
    "healthz": (None, table(200, anon=200)),
    "schools:school_list": (None, {**for_roles(200, SCHOOL_VIEWERS), STAFF: 302}),
    "schools:school_detail": ("school", for_roles(200, SCHOOL_VIEWERS)),
    "schools:major_list": ("school", for_roles(200, SCHOOL_VIEWERS)),
    "schools:student_list": ("school", for_roles(200, SCHOOL_VIEWERS)),
    "schools:student_detail": ("student", for_roles(200, SCHOOL_VIEWERS)),
    "schools:school_edit": ("school", for_roles(200, {STAFF})),
    "schools:major_import": ("school", for_roles(200, {STAFF})),
    "schools:student_import": ("school", for_roles(200, {STAFF})),
    "schools:major_template": (None, for_roles(200, {STAFF})),
    "schools:student_template": (None, for_roles(200, {STAFF})),
}

# The same pages with an object outside the school user's and the district officer's scope.
OUT_OF_SCOPE: dict[str, tuple[str, dict[str, int]]] = {
    "job_detail": ("other_job", table(404)),
    "schools:school_detail": ("other_school", {**for_roles(200, SCHOOL_VIEWERS), STAFF: 404, DISTRICT: 404}),
    "schools:major_list": ("other_school", {**for_roles(200, SCHOOL_VIEWERS), STAFF: 404, DISTRICT: 404}),
    "schools:student_list": ("other_school", {**for_roles(200, SCHOOL_VIEWERS), STAFF: 404, DISTRICT: 404}),
    "schools:student_detail": ("other_student", {**for_roles(200, SCHOOL_VIEWERS), STAFF: 404, DISTRICT: 404}),
    "schools:school_edit": ("other_school", {**for_roles(200, {STAFF}), STAFF: 404}),
    "schools:major_import": ("other_school", {**for_roles(200, {STAFF}), STAFF: 404}),
    "schools:student_import": ("other_school", {**for_roles(200, {STAFF}), STAFF: 404}),
}

# Apps add their pages in tests/access_expectations/<name>.py: EXPECTATIONS, OUT_OF_SCOPE and
# build_objects(objects, people) -> dict of further object keys (an object, or a kwargs dict).
for _module in sorted(pkgutil.iter_modules(access_expectations.__path__), key=lambda m: m.name):
    _mod = importlib.import_module(f"tests.access_expectations.{_module.name}")
    EXPECTATIONS.update(_mod.EXPECTATIONS)
    OUT_OF_SCOPE.update(getattr(_mod, "OUT_OF_SCOPE", {}))

# Django's admin has its own staff login; it is checked separately below.
EXCLUDED_NAMESPACES = {"admin"}


def all_url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace: str = "") -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace
                if ns in EXCLUDED_NAMESPACES:
                    continue
                walk(p.url_patterns, f"{namespace}{ns}:" if ns else namespace)
            elif isinstance(p, URLPattern) and p.name:
                names.add(namespace + p.name)

    walk(get_resolver().url_patterns)
    return names


def test_every_url_has_an_expectation():
    names = all_url_names()
    assert names - EXPECTATIONS.keys() == set(), "URLs without access expectations"
    assert EXPECTATIONS.keys() - names == set(), "expectations for URLs that no longer exist"
    for name, (_key, codes) in {**EXPECTATIONS, **OUT_OF_SCOPE}.items():
        assert set(codes) == set(ROLES), f"{name} lacks an expectation for {set(ROLES) - set(codes)}"


@pytest.fixture
def objects(db, school, other_school, people):
    major = factories.major(school)
    other_major = factories.major(other_school)
    staff = people[Role.SCHOOL_STAFF]
    notify(recipients=[staff], title="测试通知")
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=other_school.organisation)
    from portal.models import Job

    objects = {
        "school": school,
        "other_school": other_school,
        "student": factories.student(major),
        "other_student": factories.student(other_major),
        "notification": staff.notifications.first(),
        "job": Job.objects.create(kind="import_students", created_by=staff, params={"school_id": school.pk}),
        "other_job": Job.objects.create(
            kind="import_students", created_by=other_staff, params={"school_id": other_school.pk}
        ),
    }
    for module in sorted(pkgutil.iter_modules(access_expectations.__path__), key=lambda m: m.name):
        builder = getattr(importlib.import_module(f"tests.access_expectations.{module.name}"), "build_objects", None)
        if builder:
            objects.update(builder(objects, people))
    return objects


def _walk(expectations, objects, people):
    failures = []
    clients = {role: client_for(people[role]) for role in Role.values}
    from django.test import Client

    clients[ANON] = Client()
    for name, (key, codes) in expectations.items():
        target = objects[key] if key else None
        kwargs = target if isinstance(target, dict) else ({"pk": target.pk} if key else {})
        url = reverse(name, kwargs=kwargs)
        for role, expected in codes.items():
            response = clients[role].get(url)
            if response.status_code != expected:
                failures.append(f"{role:24} GET {url} -> {response.status_code}, expected {expected}")
            elif role == ANON and expected == 302 and name not in {"set_language"}:
                assert response["Location"].startswith(reverse("login")), url
    return failures


@pytest.mark.needs("pango")  # the objects include filed applications with their receipt PDFs
def test_every_url_as_every_role(objects, people):
    assert _walk(EXPECTATIONS, objects, people) == []


@pytest.mark.needs("pango")
def test_objects_outside_the_users_scope_are_not_found(objects, people):
    assert _walk(OUT_OF_SCOPE, objects, people) == []


def test_admin_is_closed_to_portal_users(people):
    for role in Role.values:
        response = client_for(people[role]).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], role
