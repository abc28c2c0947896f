"""Drill 3: PostgreSQL drops the portal's connections (restart, failover, an idle-connection killer).

A real single-threaded WSGI server (like one gunicorn sync worker) keeps its persistent
connection between requests (CONN_MAX_AGE). A second connection terminates every other backend
of the test database with ``pg_terminate_backend``. With ``CONN_HEALTH_CHECKS`` the next request
notices the dead connection and opens a new one; without it, that request is a 500.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.urls import reverse

from portal.models import Role
from tests import factories
from tests.conftest import client_for
from tests.faults.conftest import needs_postgres


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    """The portal served from one thread, so one persistent database connection serves every request."""
    httpd = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_QuietHandler)

    def serve() -> None:
        try:
            httpd.serve_forever()
        finally:
            connections.close_all()  # the server thread's persistent connection

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()


def _get(url: str, cookie: str) -> int:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _terminate_other_backends() -> int:
    """From this (second) connection: kill every other connection to the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@needs_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fault_database_connections_dropped_the_next_request_is_served(server):
    settings_dict = connections["default"].settings_dict  # shared with the server thread's connection
    saved = settings_dict["CONN_MAX_AGE"], settings_dict["CONN_HEALTH_CHECKS"]
    assert saved[1] is True, "portal/settings.py must set CONN_HEALTH_CHECKS for the default database"
    user = factories.user(Role.SCHOOL_STAFF)
    client = client_for(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    url = server + reverse("notification_list")
    settings_dict["CONN_MAX_AGE"] = 60
    try:
        # The portal's setting: the dead connection is noticed before the request uses it.
        assert _get(url, cookie) == 200
        assert _terminate_other_backends() >= 1
        assert _get(url, cookie) == 200
        assert _terminate_other_backends() >= 1
        assert _get(url, cookie) == 200

        # Control: without health checks the drill bites. (A connection reads the setting when it
        # opens: the first request after this termination still checks, and opens one without.)
        settings_dict["CONN_HEALTH_CHECKS"] = False
        assert _terminate_other_backends() >= 1
        assert _get(url, cookie) == 200
        assert _terminate_other_backends() >= 1
        assert _get(url, cookie) == 500  # one 500 per worker process, what the portal did before
        assert _get(url, cookie) == 200  # Django dropped the broken connection after that error
    finally:
        settings_dict["CONN_MAX_AGE"], settings_dict["CONN_HEALTH_CHECKS"] = saved
