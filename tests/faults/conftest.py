"""Fault drills: what the portal does when Redis, a worker or the database connection dies.

Drills that need the real services (Redis, PostgreSQL, a Celery worker) are skipped only when
REDIS_URL / DATABASE_URL are not set; CI (.ci/run) sets both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

needs_redis_and_postgres = pytest.mark.skipif(
    not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs Redis and PostgreSQL: .ci/run sets REDIS_URL and DATABASE_URL",
)
needs_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL: .ci/run sets DATABASE_URL",
)

DEAD_BROKER = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


def point_broker_at(url: str, *, eager: bool) -> None:
    """Make this process publish to ``url`` (or run tasks in-process when ``eager``)."""
    from portal import queue
    from portal.celery import app

    app.conf.task_always_eager = eager
    app.conf.broker_url = url
    queue.reset_broker_connections(app)


@pytest.fixture
def broker(settings):
    """Lets a drill kill and revive the broker; restores the test setup afterwards."""
    from portal.celery import app

    saved = app.conf.broker_url, app.conf.task_always_eager
    yield point_broker_at
    point_broker_at(saved[0], eager=saved[1])


class Worker:
    """A real ``celery worker`` process on the test database, killable like a crashed one."""

    def __init__(self, tmp_path: Path, name: str, *, include: str = "", env: dict | None = None):
        db = connection.settings_dict
        self.log_path = tmp_path / f"{name}.log"
        self._log = open(self.log_path, "w")
        full_env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "PORTAL_VAR_DIR": str(tmp_path),
            "C_FORCE_ROOT": "1",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            **(env or {}),
        }
        args = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "-l", "INFO"]
        args += ["-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if include:
            args += ["--include", include]
        self.proc = subprocess.Popen(args, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL: no cleanup, no ack, no rollback by the worker (the database rolls back its transaction)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self._log.close()


@pytest.fixture
def workers(tmp_path, broker):
    """Start real workers with ``workers.start(name)``; all are stopped at the end."""
    import redis

    # Tasks go to the real Redis; leftovers of earlier drills are dropped so a worker sees only ours.
    redis.Redis.from_url(os.environ["REDIS_URL"]).delete("celery", "unacked", "unacked_index")
    broker(os.environ["REDIS_URL"], eager=False)
    started: list[Worker] = []

    class Workers:
        def start(self, name: str, **kwargs) -> Worker:
            w = Worker(tmp_path, name, **kwargs)
            started.append(w)
            return w

    yield Workers()
    for w in started:
        w.stop()


def wait_for(predicate, *, timeout: float = 90, what: str = "condition", log=lambda: "") -> None:
    """Poll ``predicate`` until true; the timeout only bounds a broken run, nothing is asserted on time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{log()[-4000:]}")
