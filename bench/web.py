#!/usr/bin/env python
"""HTTP benchmark of the portal at demo size and at city scale, against a real server.

    .venv/bin/python bench/web.py                     # about 5 minutes; writes bench/results-http.json
    .venv/bin/python bench/web.py --seconds 3         # shorter runs per page
    .venv/bin/python bench/web.py --city-only --only schools --only registry   # a few pages, city only

It builds its own PostgreSQL database (``--database``, dropped and re-created; default
portal_bench), runs migrate and seed_demo, starts gunicorn on 127.0.0.1 only
(``bench.settings``: DEBUG off, one bare view at /bench/bare/), measures, stops it, runs
``seed_scale`` (the city) and measures again with a fresh server. Every figure is a ratio to
the bare view: throughput ÷ bare throughput, the bare view being loaded in one-second slices
alternating with the page (same session, same clients), so both see the same share of a shared
machine; latency percentiles next to it. Each page is loaded for ``--seconds`` (bounded, also by
``--max-requests``) by keep-alive connections spread over two client processes, loopback only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import signal
import statistics
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
HOST = "127.0.0.1"
RESULTS = Path(__file__).resolve().parent / "results-http.json"

# (label, path, login or None for anonymous, clients)
PAGES = [
    ("bare view (baseline)", "/bench/bare/", None, 32),
    ("/healthz", "/healthz", None, 32),
    ("/directory/ (anonymous)", "/directory/", None, 32),
    ("/directory/?page=3 (anonymous)", "/directory/?page=3", None, 32),
    ("/directory/?occupation=焊工 (anonymous)", "/directory/?occupation=%E7%84%8A%E5%B7%A5", None, 32),
    ("bare view, logged in", "/bench/bare/", "centre-reviewer", 4),
    ("centre home /", "/", "centre-reviewer", 4),
    ("commission home /", "/", "commission", 4),
    ("commission dept home /", "/", "commission-dept", 4),
    ("/schools/ (centre)", "/schools/", "centre-reviewer", 4),
    ("/schools/?page=3 (centre)", "/schools/?page=3", "centre-reviewer", 4),
    ("/institutions/ (centre)", "/institutions/", "centre-reviewer", 4),
    ("/registry/ (centre)", "/registry/", "centre-reviewer", 4),
    ("/registry/?page=3 (centre)", "/registry/?page=3", "centre-reviewer", 4),
    ("/directory/ (centre, logged in)", "/directory/", "centre-reviewer", 4),
    ("/directory/?page=3 (centre, logged in)", "/directory/?page=3", "centre-reviewer", 4),
]

SESSION_SNIPPET = """
import json, django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from portal.models import User
out = {}
for name in %r:
    user = User.objects.get(username=name)
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "portal.sessions.PortalModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    out[name] = s.session_key
print(json.dumps(out))
"""


def env(args) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"postgres://postgres@{HOST}:5432/{args.database}",
        "REDIS_URL": args.redis,
        "DJANGO_SECRET_KEY": "bench-only-" + "x" * 40,
        "PORTAL_ALLOW_DEMO": "1",
        "DJANGO_DEBUG": "0",
    }


def manage(args, *command: str) -> None:
    subprocess.run([PYTHON, "manage.py", *command], cwd=args.code, env=env(args), check=True, timeout=900)


# --- The load client ----------------------------------------------------------------------


def _worker(port: int, path: str, cookie: str, threads: int, seconds: float, max_requests: int, queue) -> None:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    paths = list(path) if isinstance(path, list | tuple) else [path]  # a list: each client cycles through it

    def loop(offset: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        headers = {"Cookie": cookie} if cookie else {}
        mine = []
        while time.perf_counter() < deadline and len(mine) < max_requests:
            start = time.perf_counter()
            try:
                conn.request("GET", paths[(offset + len(mine)) % len(paths)], headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=30)
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
                continue
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=loop, args=(k * 7919 + os.getpid(),)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((latencies, errors[0]))


def load(port: int, path: str, cookie: str, clients: int, seconds: float, max_requests: int) -> dict:
    processes = 2 if clients >= 2 else 1
    queue = multiprocessing.Queue()
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    started = time.perf_counter()
    procs = [
        multiprocessing.Process(
            target=_worker, args=(port, path, cookie, n, seconds, max(1, max_requests // clients), queue)
        )
        for n in per
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    elapsed = time.perf_counter() - started
    return summary([x for r in results for x in r[0]], sum(r[1] for r in results), elapsed)


def summary(latencies: list[float], errors: int, elapsed: float) -> dict:
    latencies = sorted(latencies)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "requests": len(latencies),
        "latencies": latencies,
        "elapsed": elapsed,
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


def paired(args, path: str, cookie: str, clients: int) -> tuple[dict, dict | None]:
    """The page and the bare view (same session, same clients) in alternating one-second slices,
    so that both see the same share of a machine whose other load comes and goes."""
    if path == "/bench/bare/":
        return load(args.port, path, cookie, clients, args.seconds, args.max_requests), None
    slices = max(1, round(args.seconds))
    got: dict[str, list] = {"page": [[], 0, 0.0], "bare": [[], 0, 0.0]}
    for _ in range(slices):
        for key, target in (("page", path), ("bare", "/bench/bare/")):
            part = load(args.port, target, cookie, clients, args.seconds / slices, args.max_requests // slices)
            got[key][0].extend(part["latencies"])
            got[key][1] += part["errors"]
            got[key][2] += part["elapsed"]
    return summary(*got["page"]), summary(*got["bare"])


# --- A round: one server, every page -------------------------------------------------------


def round_(args, label: str) -> dict:
    logins = sorted({login for _l, _p, login, _c in PAGES if login})
    out = subprocess.run(
        [PYTHON, "-c", SESSION_SNIPPET % (logins,)],
        cwd=args.code,
        env=env(args),
        check=True,
        capture_output=True,
        timeout=120,
    )
    sessions = json.loads(out.stdout.decode().strip().splitlines()[-1])
    server = subprocess.Popen(
        [
            GUNICORN,
            "--chdir",
            str(args.code),
            "portal.wsgi",
            "--bind",
            f"{HOST}:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            "8",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=args.code,
        env=env(args),
        start_new_session=True,
    )
    try:
        for _ in range(120):
            try:
                conn = http.client.HTTPConnection(HOST, args.port, timeout=2)
                conn.request("GET", "/bench/bare/")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("gunicorn did not answer")
        rows = []
        for name, path, login, clients in PAGES:
            if args.only and path != "/bench/bare/" and not any(word in name for word in args.only):
                continue
            cookie = f"sessionid={sessions[login]}" if login else ""
            load(args.port, path, cookie, clients, 1.0, 200)  # warm-up (and fills the directory cache)
            figures, bare = paired(args, path, cookie, clients)
            rows.append({"page": name, "path": path, "login": login, "clients": clients, **figures})
            if bare:
                rows[-1].update(
                    paired_bare_rps=bare["rps"], paired_bare_p95_ms=bare["p95_ms"], ratio=figures["rps"] / bare["rps"]
                )
            print(
                f"  {label:5} {name:42} {figures['rps']:8.1f} req/s  p50 {figures['p50_ms']:7.1f}  "
                f"p95 {figures['p95_ms']:7.1f}  p99 {figures['p99_ms']:7.1f} ms  errors {figures['errors']}"
                + (f"  | x bare {rows[-1]['ratio']:.2f} (bare p95 {bare['p95_ms']:.0f} ms)" if bare else ""),
                flush=True,
            )
        for row in rows:  # ratios to the bare view with the same kind of client (anonymous / logged in)
            base = next(r for r in rows if r["path"] == "/bench/bare/" and bool(r["login"]) == bool(row["login"]))
            row["ratio_to_bare"] = row["rps"] / base["rps"]
            row.setdefault("ratio", 1.0 if row is base else row["ratio_to_bare"])
        return {"size": label, "rows": rows}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def strip(rounds: list[dict]) -> list[dict]:
    """The rounds without each row's raw latencies."""
    return [{**r, "rows": [{k: v for k, v in row.items() if k != "latencies"} for row in r["rows"]]} for r in rounds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="portal_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument(
        "--only", action="append", default=[], help="measure only pages whose label contains this (repeatable)"
    )
    parser.add_argument("--city-only", action="store_true", help="skip the demo-size round")
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database as it is (no re-creation, no seeding): one round"
    )
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="serve this copy of the portal (an older tree, same data)"
    )
    args = parser.parse_args()
    if not 1 <= args.seconds <= 60:
        parser.error("--seconds: 1 to 60")
    if args.reuse:
        rounds = [round_(args, "as-is")]
        RESULTS.with_suffix(".reuse.json").write_text(json.dumps(strip(rounds), ensure_ascii=False, indent=1))
        print(f"results in {RESULTS.with_suffix('.reuse.json')}")
        return
    subprocess.run(["dropdb", "-h", HOST, "-U", "postgres", "--if-exists", args.database], check=True)
    subprocess.run(["createdb", "-h", HOST, "-U", "postgres", args.database], check=True)
    manage(args, "migrate", "-v0")
    manage(args, "seed_demo")
    load_before = os.getloadavg()[0]
    rounds = [] if args.city_only else [round_(args, "demo")]
    started = time.monotonic()
    manage(args, "seed_scale", "--allow-production")
    seed_seconds = time.monotonic() - started
    rounds.append(round_(args, "city"))
    RESULTS.write_text(
        json.dumps(
            {
                "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                "machine": {
                    "platform": platform.platform(),
                    "cpu_count": os.cpu_count(),
                    "load_average_1min_before_after": [load_before, os.getloadavg()[0]],
                },
                "server": f"gunicorn gthread, {args.workers} workers x 8 threads, bench.settings (DEBUG off)",
                "seconds_per_page": args.seconds,
                "seed_scale_seconds": round(seed_seconds, 1),
                "rounds": strip(rounds),
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"seed_scale: {seed_seconds:.0f} s; results in {RESULTS}")


if __name__ == "__main__":
    main()
