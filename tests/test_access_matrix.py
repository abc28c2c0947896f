"""Every URL of the portal, as every role and as an anonymous visitor, by GET and by POST.

GET: in scope 200 (or the page's redirect); wrong role 403; outside the user's scope 404;
anonymous the login page (302) unless the page is public.

POST: every URL is sent a POST as every role and anonymous, in and out of scope and in a state
that refuses the step. A refused POST (403, 404, 405, 409, the login page, a form shown again)
must leave everything as it was: every table's row count, highest primary key and a checksum of
every row (history, guardian object permissions, notifications, events, jobs, counters and the
rest alike), nothing queued on commit, no e-mail, no file. An allowed POST (``Writes``) must
change something; each POST runs in a savepoint rolled back afterwards, so all cases share one
set of objects built once for the module.

A URL without a GET expectation for each role, or without a POST expectation, fails
``test_every_url_has_an_expectation``; a view marked ``READ_ONLY`` that handles POST fails
``test_views_marked_read_only_do_not_handle_post``.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import inspect
import os
import pkgutil
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

from portal.access import CITYWIDE_ROLES
from portal.models import Role
from portal.services import notify
from tests import access_expectations, factories
from tests.access_expectations import ANON, READ_ONLY, Post, Writes

ROLES = [*Role.values, ANON]
CITY = {str(r) for r in CITYWIDE_ROLES}
STAFF = Role.SCHOOL_STAFF.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
SYSADMIN = Role.SYSTEM_ADMIN.value
EXPERT = Role.EXPERT.value
PASSWORD = "test-pass-2026"  # tests.factories.user's default
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table(default: int, anon: int = 302, **codes: int) -> dict[str, int]:
    out = {role: default for role in Role.values}
    out.update(codes)
    out[ANON] = anon
    return out


def for_roles(ok: int, roles: set[str], other: int = 403, anon: int = 302) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, ANON: anon}


SCHOOL_VIEWERS = CITY | {STAFF, DISTRICT}

# url name -> (object key for kwargs or None, {role: status}); object keys are built in ``world``.
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
    "occupation_import": (None, for_roles(200, {SYSADMIN})),
    "occupation_template": (None, for_roles(200, {SYSADMIN})),
    "major_catalogue": (None, for_roles(200, SCHOOL_VIEWERS)),
    "major_occupation_import": (None, for_roles(200, {SYSADMIN})),
    "major_occupation_template": (None, for_roles(200, {SYSADMIN})),
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


def _upload(template: str, name: str):
    """A POST body with a fresh copy of one of the portal's own Excel templates (header row only)."""

    def body(objects: dict) -> dict:
        if template == "occupations":
            from portal.imports import occupation_template

            data = occupation_template()
        elif template == "major_occupations":
            from portal.imports import major_occupation_template

            data = major_occupation_template()
        else:
            from schools import excel

            data = excel.major_template() if template == "majors" else excel.student_template()
        return {"file": SimpleUploadedFile(name, data, content_type=XLSX)}

    return body


SCHOOL_EDIT = {"address": "上海市测试路1号", "contact_name": "王老师", "contact_phone": "021-1234567", "reason": "更新"}
NEW_PASSWORD = "Another-pass-2027!"

# url name -> READ_ONLY, or the POSTs sent to it (see tests/access_expectations/__init__.py).
POST_EXPECTATIONS: dict[str, object] = {
    "home": READ_ONLY,
    # Anonymous: the right password logs in (last login, the lockout log). Logged in: sent home.
    "login": [Post(None, table(302, anon=Writes(302)), data=lambda o: o["login"])],
    # Signed out and sent to the login page; axes notes the logout time of a logged-in user.
    "logout": [Post(None, table(Writes(302), anon=302))],
    "password_change": [
        Post(
            None,
            table(Writes(302)),
            data={"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        ),
        Post(None, table(200), note="an empty form is shown again"),
    ],
    "password_change_done": READ_ONLY,
    # Kept on the user (User.language) and in a cookie; for anonymous visitors the cookie only.
    "set_language": [Post(None, table(Writes(302), anon=302), data={"language": "en", "next": "/"})],
    "notification_list": READ_ONLY,
    # Only its recipient may open a notification; for anyone else it does not exist.
    "notification_open": [Post("notification", table(404, **{STAFF: Writes(302)}))],
    "notification_read_all": [Post(None, table(Writes(302)))],
    "job_list": READ_ONLY,
    "job_detail": READ_ONLY,
    "occupation_list": READ_ONLY,
    "occupation_import": [
        Post(None, for_roles(Writes(302), {SYSADMIN}), data=_upload("occupations", "职业.xlsx")),
        Post(None, for_roles(200, {SYSADMIN}), note="no file: the form again"),
    ],
    "occupation_template": READ_ONLY,
    "major_catalogue": READ_ONLY,
    "major_occupation_import": [
        Post(None, for_roles(Writes(302), {SYSADMIN}), data=_upload("major_occupations", "专业职业对应.xlsx")),
        Post(None, for_roles(200, {SYSADMIN}), note="no file: the form again"),
    ],
    "major_occupation_template": READ_ONLY,
    "calendar": READ_ONLY,
    "healthz": READ_ONLY,
    "schools:school_list": READ_ONLY,
    "schools:school_detail": READ_ONLY,
    "schools:major_list": READ_ONLY,
    "schools:student_list": READ_ONLY,
    "schools:student_detail": READ_ONLY,
    "schools:school_edit": [
        Post("school", for_roles(Writes(302), {STAFF}), data=SCHOOL_EDIT),
        Post("other_school", {**for_roles(403, set()), STAFF: 404}, data=SCHOOL_EDIT),
    ],
    "schools:major_import": [
        Post("school", for_roles(Writes(302), {STAFF}), data=_upload("majors", "专业.xlsx")),
        Post("other_school", {**for_roles(403, set()), STAFF: 404}, data=_upload("majors", "专业.xlsx")),
    ],
    "schools:student_import": [
        Post("school", for_roles(Writes(302), {STAFF}), data=_upload("students", "学生.xlsx")),
        Post("other_school", {**for_roles(403, set()), STAFF: 404}, data=_upload("students", "学生.xlsx")),
    ],
    "schools:major_template": READ_ONLY,
    "schools:student_template": READ_ONLY,
}

# Anonymous 302s go to the login page, except where the page sends everyone on.
ANON_REDIRECTS_ELSEWHERE = {"set_language"}


def _expectation_modules() -> list:
    return [
        importlib.import_module(f"tests.access_expectations.{m.name}")
        for m in sorted(pkgutil.iter_modules(access_expectations.__path__), key=lambda m: m.name)
    ]


# Apps add their pages in tests/access_expectations/<name>.py (see its __init__).
for _mod in _expectation_modules():
    EXPECTATIONS.update(_mod.EXPECTATIONS)
    OUT_OF_SCOPE.update(getattr(_mod, "OUT_OF_SCOPE", {}))
    POST_EXPECTATIONS.update(getattr(_mod, "POST_EXPECTATIONS", {}))
    ANON_REDIRECTS_ELSEWHERE.update(getattr(_mod, "ANON_REDIRECTS_ELSEWHERE", set()))

# Django's admin has its own staff login; it is checked separately below.
EXCLUDED_NAMESPACES = {"admin"}


def url_patterns(include_admin: bool = False) -> dict[str, URLPattern]:
    """Every named URL pattern of the portal, from the resolver: name -> pattern."""
    found: dict[str, URLPattern] = {}

    def walk(patterns, namespace: str = "") -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace
                if ns in EXCLUDED_NAMESPACES and not include_admin:
                    continue
                walk(p.url_patterns, f"{namespace}{ns}:" if ns else namespace)
            elif isinstance(p, URLPattern) and p.name:
                found[namespace + p.name] = p

    walk(get_resolver().url_patterns)
    return found


def all_url_names() -> set[str]:
    return set(url_patterns())


def test_every_url_has_an_expectation():
    names = all_url_names()
    assert names - EXPECTATIONS.keys() == set(), "URLs without access expectations"
    assert EXPECTATIONS.keys() - names == set(), "expectations for URLs that no longer exist"
    assert names - POST_EXPECTATIONS.keys() == set(), "URLs without POST expectations (READ_ONLY or Post cases)"
    assert POST_EXPECTATIONS.keys() - names == set(), "POST expectations for URLs that no longer exist"
    for name, (_key, codes) in {**EXPECTATIONS, **OUT_OF_SCOPE}.items():
        assert set(codes) == set(ROLES), f"{name} lacks an expectation for {set(ROLES) - set(codes)}"
    for name, cases in POST_EXPECTATIONS.items():
        if cases is READ_ONLY:
            continue
        assert isinstance(cases, list) and cases, f"{name}: READ_ONLY or a list of Post cases"
        for case in cases:
            assert isinstance(case, Post), name
            assert set(case.codes) == set(ROLES), f"{name} POST lacks {set(ROLES) - set(case.codes)}"


def _handles_post(callback) -> bool:
    """Whether a view reads a POST: a class view with ``post``, or a function that looks at the method,
    the posted data or files, or only allows POST."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post")
    source = inspect.getsource(inspect.unwrap(callback))
    layers = [callback]
    while hasattr(layers[-1], "__wrapped__"):
        layers.append(layers[-1].__wrapped__)
    allowed = [
        cell.cell_contents
        for layer in layers
        for cell in (getattr(layer, "__closure__", None) or ())
        if isinstance(cell.cell_contents, list) and "POST" in cell.cell_contents
    ]
    return bool(allowed) or any(s in source for s in ("request.POST", "request.FILES", "request.method", "_posted("))


def test_views_marked_read_only_do_not_handle_post():
    """READ_ONLY is checked against the view's code, so a form added to a page cannot hide behind it."""
    patterns = url_patterns()
    read_only = [n for n in patterns if POST_EXPECTATIONS.get(n) is READ_ONLY]
    handling = sorted(n for n in read_only if _handles_post(patterns[n].callback))
    assert handling == [], "views marked READ_ONLY that handle POST: give them Post cases"
    # The detector itself: views known to take POST are seen as such.
    assert _handles_post(patterns["notification_read_all"].callback)
    assert _handles_post(patterns["schools:school_edit"].callback)
    assert _handles_post(patterns["logout"].callback)
    assert not _handles_post(patterns["home"].callback)


# --- The shared world ------------------------------------------------------------------


@dataclass
class World:
    objects: dict
    people: dict
    clients: dict[str, Client]
    media: Path


def _base_objects(school, other_school, people: dict) -> dict:
    from portal.models import Job

    major = factories.major(school)
    other_major = factories.major(other_school)
    staff = people[Role.SCHOOL_STAFF]
    notify(recipients=list(people.values()), title="测试通知")  # one unread for everyone: read-all writes
    other_staff = factories.user(Role.SCHOOL_STAFF, organisation=other_school.organisation)
    return {
        "school": school,
        "other_school": other_school,
        "student": factories.student(major),
        "other_student": factories.student(other_major),
        "notification": staff.notifications.first(),
        "job": Job.objects.create(kind="import_students", created_by=staff, params={"school_id": school.pk}),
        "other_job": Job.objects.create(
            kind="import_students", created_by=other_staff, params={"school_id": other_school.pk}
        ),
        "login": {"username": staff.username, "password": PASSWORD},
    }


def _people(school) -> dict:
    """One user per role, as tests/conftest.py's ``people`` (the school user works at ``school``)."""
    out = {
        role: factories.user(role) for role in Role.values if role not in {Role.SCHOOL_STAFF, Role.DISTRICT_HR_OFFICER}
    }
    out[Role.SCHOOL_STAFF] = factories.user(Role.SCHOOL_STAFF, organisation=school.organisation)
    bureau = factories.organisation("district_hr", district_code=school.organisation.district.code)
    out[Role.DISTRICT_HR_OFFICER] = factories.user(Role.DISTRICT_HR_OFFICER, organisation=bureau)
    return out


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Objects, one user per role and their logged-in clients, built once for the module inside a
    transaction that is rolled back at the end (each test adds its own savepoint through ``db``)."""
    from portal.celery import app

    media = tmp_path_factory.mktemp("matrix-media")
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media), "base_url": None},
        },
    }
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            STORAGES=storages,
            CELERY_TASK_ALWAYS_EAGER=True,
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            # A request that writes nothing then leaves the write counter alone (see ``rows_written``).
            SESSION_SAVE_EVERY_REQUEST=False,
        ),
        translation.override(settings.LANGUAGE_CODE),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            school = factories.school()
            other_school = factories.school(district_code="310112")  # another district
            people = _people(school)
            objects = _base_objects(school, other_school, people)
            for module in _expectation_modules():
                builder = getattr(module, "build_objects", None)
                if builder:
                    objects.update(builder(objects, people))
            clients = {role: _client_for(people[role]) for role in Role.values}
            clients[ANON] = Client()
            yield World(objects=objects, people=people, clients=clients, media=media)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            app.conf.task_always_eager = eager


@pytest.fixture(autouse=True)
def _private_media():
    """Replaces conftest's per-test media directory: the module's objects keep their files in ``world``'s."""
    yield


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _target_url(name: str, key: str | None, objects: dict) -> str:
    target = objects[key] if key else None
    kwargs = target if isinstance(target, dict) else ({"pk": target.pk} if key else {})
    return reverse(name, kwargs=kwargs)


def _walk(expectations, world: World) -> list[str]:
    failures = []
    for name, (key, codes) in expectations.items():
        url = _target_url(name, key, world.objects)
        for role, expected in codes.items():
            response = world.clients[role].get(url)
            if response.status_code != expected:
                failures.append(f"{role:24} GET {url} -> {response.status_code}, expected {expected}")
            elif role == ANON and expected == 302 and name not in ANON_REDIRECTS_ELSEWHERE:
                if not response["Location"].startswith(reverse("login")):
                    failures.append(f"{role:24} GET {url} -> 302 to {response['Location']}, expected the login page")
    return failures


@pytest.mark.needs("pango")  # the objects include filed applications with their receipt PDFs
def test_every_url_as_every_role(world, db):
    failures = _walk(EXPECTATIONS, world)
    assert not failures, "\n".join(failures)


@pytest.mark.needs("pango")
def test_objects_outside_the_users_scope_are_not_found(world, db):
    failures = _walk(OUT_OF_SCOPE, world)
    assert not failures, "\n".join(failures)


# --- Side effects: the database fingerprint and the rest -------------------------------

# Tables left out of the fingerprint, with the reason.
UNWATCHED_TABLES = {
    # Every request saves its session (SESSION_SAVE_EVERY_REQUEST, expiry moves on): the request's
    # bookkeeping, not the view's doing. Logging in and out are checked through axes' tables.
    "django_session",
}


_fingerprint_sql: dict[str, str] = {}


def _fingerprint_query() -> str:
    """One UNION ALL query over every table in the database (not only the models Django knows):
    row count, highest primary key, checksum of every column of every row."""
    if connection.vendor in _fingerprint_sql:
        return _fingerprint_sql[connection.vendor]
    q = connection.ops.quote_name
    parts = []
    with connection.cursor() as cursor:
        tables = sorted(set(connection.introspection.table_names(cursor)) - UNWATCHED_TABLES)
        for name in tables:
            pk = connection.introspection.get_primary_key_column(cursor, name)
            top = f"CAST(MAX({q(pk)}) AS TEXT)" if pk else "NULL"
            if connection.vendor == "postgresql":
                # A 64-bit hash of each whole row, summed: order-independent; numeric, so no overflow.
                checksum = "CAST(COALESCE(SUM(HASHTEXTEXTENDED(t::text, 0)), 0) AS TEXT)"
            elif connection.vendor == "sqlite":
                # Every row's columns as text, hashed in Python below: SQLite has no hash function.
                # A table scan returns the rows in the same order while the table is unchanged.
                columns = [c.name for c in connection.introspection.get_table_description(cursor, name)]
                checksum = "GROUP_CONCAT({}, CHAR(30))".format(" || '|' || ".join(f"QUOTE({q(c)})" for c in columns))
            else:
                raise NotImplementedError(connection.vendor)
            parts.append(f"SELECT '{name}', COUNT(*), {top}, {checksum} FROM {q(name)} t")
    _fingerprint_sql[connection.vendor] = " UNION ALL ".join(parts)
    return _fingerprint_sql[connection.vendor]


def fingerprint() -> dict[str, tuple]:
    """table -> (rows, highest primary key, checksum of the rows' content)."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_query())
        found = cursor.fetchall()
    if connection.vendor == "sqlite":
        return {
            name: (rows, top, hashlib.blake2b((content or "").encode("utf-8", "surrogatepass")).hexdigest())
            for name, rows, top, content in found
        }
    return {name: (rows, top, checksum) for name, rows, top, checksum in found}


def rows_written() -> int:
    """Rows inserted, updated or deleted on this connection so far (rolled back or not): when a
    request leaves it unchanged, it wrote nothing and the fingerprint need not be taken again."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.total_changes
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables")
        return int(cursor.fetchone()[0])


def _files(root: Path) -> frozenset[tuple[str, int, int]]:
    found = set()
    for folder, _dirs, names in os.walk(root):
        for n in names:
            stat = os.stat(os.path.join(folder, n))
            found.add((os.path.relpath(os.path.join(folder, n), root), stat.st_size, stat.st_mtime_ns))
    return frozenset(found)


@dataclass(frozen=True)
class State:
    """What a request could leave behind: the database, work queued on commit, e-mail, files."""

    tables: dict[str, tuple]
    on_commit: int
    mails: int
    files: frozenset = field(default_factory=frozenset)

    @classmethod
    def now(cls, media: Path, *, tables: dict[str, tuple] | None = None) -> State:
        return cls(tables or fingerprint(), len(connection.run_on_commit), len(mail.outbox), _files(media))

    def changes_since(self, before: State) -> list[str]:
        out = []
        for name in sorted(before.tables.keys() | self.tables.keys()):
            b, a = before.tables.get(name), self.tables.get(name)
            if b == a:
                continue
            if b is None or a is None:
                out.append(f"table {name} {'created' if b is None else 'dropped'}")
                continue
            what = []
            if b[0] != a[0]:
                what.append(f"rows {b[0]}→{a[0]}")
            if b[1] != a[1]:
                what.append(f"highest key {b[1]}→{a[1]}")
            if b[2] != a[2] and not what:
                what.append("a row's content")
            out.append(f"{name}: {', '.join(what)}")
        if self.on_commit != before.on_commit:
            out.append(f"{self.on_commit - before.on_commit} callback(s) queued on commit")
        if self.mails != before.mails:
            out.append(f"{self.mails - before.mails} e-mail(s) sent")
        if self.files != before.files:
            added = sorted(p for p, *_ in self.files - before.files)
            removed = sorted(p for p, *_ in before.files - self.files)
            out.append(f"files written {added} / gone or changed {removed}")
        return out


class _Undo(Exception):
    """Raised inside the savepoint of one request to roll it back."""


@dataclass
class PostResult:
    status: int | None
    location: str
    changes: list[str]
    error: str = ""


def send_post(world: World, role: str, url: str, data: dict, before: State, backup: Path) -> PostResult:
    """POST as ``role`` inside a savepoint; note what changed, then undo it all (database, the
    client's cookies, files), so the next request starts from ``before``."""
    client = world.clients[role]
    cookies = copy.deepcopy(client.cookies)
    result = PostResult(None, "", [])
    try:
        with transaction.atomic():
            written = rows_written()
            try:
                response = client.post(url, data)
            except Exception as exc:  # a 500: reported with the others, not stopping the walk
                result.error = f"raised {exc.__class__.__name__}: {exc}"
                raise _Undo from exc
            result.status = response.status_code
            result.location = response.get("Location", "")
            unwritten = rows_written() == written
            result.changes = State.now(world.media, tables=before.tables if unwritten else None).changes_since(before)
            raise _Undo
    except _Undo:
        pass
    finally:
        client.cookies = cookies
        del mail.outbox[before.mails :]
        if _files(world.media) != before.files:
            shutil.rmtree(world.media)
            shutil.copytree(backup, world.media)
    return result


def _post_cases(world: World) -> Iterator[tuple[str, str, Post | None, dict[str, int]]]:
    """(url name, url, case, codes): READ_ONLY URLs are posted with their GET's object and codes."""
    for name, cases in POST_EXPECTATIONS.items():
        if cases is READ_ONLY:
            for table_ in (EXPECTATIONS, OUT_OF_SCOPE):
                if name in table_:
                    key, codes = table_[name]
                    yield name, _target_url(name, key, world.objects), None, codes
            continue
        for case in cases:
            yield name, _target_url(name, case.key, world.objects), case, case.codes


def _check_post(name: str, role: str, url: str, case: Post | None, expected: int, result: PostResult) -> str | None:
    line = f"{role:24} POST {url}"
    if result.error:
        return f"{line} {result.error}"
    if case is None:  # READ_ONLY: as the GET, or 405
        allowed = {expected, 405}
        if result.status not in allowed:
            return f"{line} -> {result.status}, expected {expected} as the GET (or 405)"
        if result.changes:
            return f"{line} -> {result.status} on a read-only page changed: {'; '.join(result.changes)}"
        return None
    if result.status != expected:
        return f"{line} -> {result.status}, expected {expected!r}; changed: {'; '.join(result.changes) or 'nothing'}"
    refused = not isinstance(expected, Writes)
    if role == ANON and result.status == 302 and refused and name not in ANON_REDIRECTS_ELSEWHERE:
        if not result.location.startswith(reverse("login")):
            return f"{line} -> 302 to {result.location}, expected the login page"
    if isinstance(expected, Writes):
        if not result.changes:
            return f"{line} -> {result.status} as expected but wrote nothing (body refused? {case.note})"
    elif result.changes:
        return f"{line} -> {result.status}, refused but changed: {'; '.join(result.changes)}"
    return None


@pytest.mark.needs("pango")
def test_every_post_as_every_role_changes_nothing_unless_allowed(world, db, tmp_path):
    backup = tmp_path / "media"
    shutil.copytree(world.media, backup)
    before = State.now(world.media)
    failures, sent = [], 0
    for name, url, case, codes in _post_cases(world):
        for role, expected in codes.items():
            data = case.body(world.objects) if case else {}
            result = send_post(world, role, url, data, before, backup)
            sent += 1
            failure = _check_post(name, role, url, case, expected, result)
            if failure:
                failures.append(failure)
    assert not failures, "\n".join(failures)
    assert State.now(world.media) == before, "the walk did not leave the database as it found it"
    assert sent > 400


# --- The fingerprint can fail ----------------------------------------------------------


def test_the_fingerprint_sees_inserts_deletes_and_updates_in_any_table(db, school, people, tmp_path):
    from guardian.shortcuts import assign_perm

    from portal.models import Notification

    media = tmp_path / "media"
    media.mkdir()
    before = State.now(media)
    assert State.now(media).changes_since(before) == []

    staff = people[Role.SCHOOL_STAFF]
    notification = notify(recipients=[staff], title="测试")[0]
    assert [c.split(":")[0] for c in State.now(media).changes_since(before)] == ["portal_notification"]

    before = State.now(media)
    Notification.objects.filter(pk=notification.pk).update(title="改过")  # same count, same key
    assert State.now(media).changes_since(before) == ["portal_notification: a row's content"]

    before = State.now(media)
    history = type(school).history.count()
    school.contact_name = "新联系人"
    school.save(update_fields=["contact_name"])  # same count and key; simple-history adds its row
    assert [c for c in State.now(media).changes_since(before) if c.startswith("schools_")] == [
        f"schools_historicalschool: rows {history}→{history + 1}, "
        f"highest key {school.history.all()[1].history_id}→{school.history.all()[0].history_id}",
        "schools_school: a row's content",
    ]

    before = State.now(media)
    assign_perm("schools.view_school", people[Role.EXPERT], school)
    assert [c.split(":")[0] for c in State.now(media).changes_since(before)] == ["guardian_userobjectpermission"]

    before = State.now(media)
    rows = Notification.objects.count()
    Notification.objects.filter(pk=notification.pk).delete()
    top = Notification.objects.order_by("pk").last()
    assert State.now(media).changes_since(before) == [
        f"portal_notification: rows {rows}→{rows - 1}, highest key {notification.pk}→{top.pk if top else None}"
    ]

    written = rows_written()
    list(Notification.objects.all())
    assert rows_written() == written, "a read is not a write"
    school.save(update_fields=["contact_name"])  # the same value again is still a write
    assert rows_written() > written

    before = State.now(media)
    transaction.on_commit(lambda: None)
    (media / "stray.pdf").write_bytes(b"%PDF")
    changes = State.now(media).changes_since(before)
    assert "1 callback(s) queued on commit" in changes
    assert any(c.startswith("files written ['stray.pdf']") for c in changes)


# --- Django's admin ---------------------------------------------------------------------


def test_admin_is_closed_to_portal_users(people):
    for role in Role.values:
        response = _client_for(people[role]).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"], role


def _admin_urls() -> list[tuple[str, str]]:
    """Every URL pattern of Django's admin (194 with today's models), with placeholder arguments."""
    urls = []
    for name, pattern in url_patterns(include_admin=True).items():
        if not name.startswith("admin:"):
            continue
        regex = getattr(pattern.pattern, "regex", None)
        names = set(getattr(pattern.pattern, "converters", {})) | set(regex.groupindex if regex else ())
        kwargs = {n: ("portal" if n == "app_label" else "1") for n in names}
        args = ["1"] * regex.groups if regex is not None and not names else []  # simple-history's unnamed groups
        urls.append((name, reverse(name, args=args) if args else reverse(name, kwargs=kwargs)))
    return urls


@pytest.mark.needs("pango")
def test_admin_refuses_every_post_from_portal_users(world, db, tmp_path):
    """The admin checks staff status, not portal roles, before anything: every one of its URLs is
    posted as an anonymous visitor and as the system administrator (a portal role without staff
    status), and must send them to the admin's login page having changed nothing."""
    backup = tmp_path / "media"
    shutil.copytree(world.media, backup)
    before = State.now(world.media)
    failures = []
    urls = _admin_urls()
    assert len(urls) > 100
    for name, url in urls:
        for role in (ANON, SYSADMIN):
            result = send_post(world, role, url, {}, before, backup)
            if name == "admin:login":  # the login form again, for anyone
                ok = result.status == 200
            elif name == "admin:logout":  # signs anyone out (the session only) and goes to the admin's index
                ok = result.status == 302 and result.location == reverse("admin:index")
            else:
                ok = result.status == 302 and result.location.startswith(reverse("admin:login"))
            if result.error or not ok or result.changes:
                failures.append(
                    f"{role:24} POST {url} -> {result.status} {result.location} {result.error} "
                    f"{'; '.join(result.changes)}"
                )
    assert not failures, "\n".join(failures)
