"""Transactional tests empty every table when they end, reference data included; put it back
after the last of them, as the browser tests do (see tests/browser/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def migrated_db_contents(django_db_setup) -> dict[str, str]:
    from django.db import connections

    return {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if getattr(connections[alias], "_test_serialized_contents", None)
    }


@pytest.fixture(scope="package", autouse=True)
def _leave_database_as_migrated(migrated_db_contents, django_db_blocker) -> Iterator[None]:
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for alias, data in migrated_db_contents.items():
            connections[alias].creation.deserialize_db_from_string(data)


@pytest.fixture(autouse=True)
def _celery_join_flag_reset() -> Iterator[None]:
    """Eager tasks run on commit inside the worker threads here (Celery eager mode in tests), and
    Celery keeps its "inside a task" flag in a process global, not per thread: two threads that
    finish tasks in an interleaved order can leave it set, and every later ``result.get()`` in
    this process would then refuse. Put it back after each test (a worker process never shares it).
    """
    yield
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
