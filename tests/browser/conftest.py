"""Headless Chromium (Debian's package) against pytest-django's live server.

One browser for all of them; every test gets a fresh context, so no cookie or
session leaks from one login to the next. Playwright's own browser download does not work
on these machines, hence ``executable_path``.

The database. These tests are transactional (the live server runs in another thread): each ends
by emptying every table, the reference data written by migrations (districts, occupations,
calendar) included, and ``serialized_rollback`` reloads it at the start of the next. Once
Playwright's sync API has started, an asyncio loop counts as running in this thread, and
``django.db.connections`` then hands out other connection objects than the ones pytest-django
created and serialized the database on; without the serialized copy Django's reload silently does
nothing. So the ``browser`` fixture copies the serialized state onto the connections seen inside
Playwright, and the state is reloaded once more after the last browser test, so that a later
transactional test still finds the database as migrations left it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal import sysdeps

CHROMIUM = sysdeps.chromium_path()  # $PORTAL_CHROMIUM, else chromium on PATH
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"

# The sync API runs an event loop in this thread; Django's ORM must be allowed beside it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def migrated_db_contents(django_db_setup) -> dict[str, str]:
    """The database as migrations left it, serialized by pytest-django at creation.

    pytest-django serializes only when a collected test asks for ``serialized_rollback``; the
    browser tests' module mark does.
    """
    from django.db import connections

    return {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if getattr(connections[alias], "_test_serialized_contents", None)
    }


def _reload(contents: dict[str, str]) -> None:
    from django.db import connections

    for alias, data in contents.items():
        connections[alias].creation.deserialize_db_from_string(data)


@pytest.fixture(scope="package")
def browser(migrated_db_contents):  # captured first: see the module docstring
    """One Chromium for all browser tests.

    Package-scoped rather than session-scoped (all browser tests live in this package): the
    Playwright loop stops when they are done, so the tests after them use Django's usual
    connections again.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        # The tests' needs("chromium") mark skips (and lists) them before this; never a silent skip here.
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (make test does, as root)")

    with sync_playwright() as pw:
        for alias, data in migrated_db_contents.items():
            connections[alias]._test_serialized_contents = data
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            connections.close_all()  # the connections opened inside the loop; none left open


@pytest.fixture(scope="package", autouse=True)
def _leave_database_as_migrated(migrated_db_contents, django_db_blocker) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        _reload(migrated_db_contents)


@pytest.fixture(autouse=True)
def _axes_reset(transactional_db) -> Iterator[None]:
    """No lockout carried over from another test: every browser test starts unlocked."""
    from axes.utils import reset

    reset()
    yield
    reset()


@pytest.fixture
def browser_context_factory(browser, live_server):
    """Opens fresh browser contexts on the live server; closes them after the test."""
    contexts = []

    def open_context():
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",
            # Wide enough that the navbar is expanded and its logout button is visible.
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(browser_context_factory):
    return browser_context_factory().new_page()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
