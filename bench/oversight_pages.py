#!/usr/bin/env python
"""Oversight pages at demo size and at city scale (issue 10 §8): p95 and query count per page.

    .venv/bin/python bench/oversight_pages.py --demo portal_scale_demo --city portal_scale
    .venv/bin/python bench/oversight_pages.py --city portal_scale --seconds 3 --only 首页
    .venv/bin/python bench/oversight_pages.py --demo … --city … --code /tmp/head   # the committed tree only

Measures two existing databases as they are (nothing is created or seeded here): one after
``seed_demo`` (demo size) and one after ``seed_demo`` + ``seed_scale`` (a decade of the city).
For each, with the harness of bench/web.py (gunicorn gthread 2×8 on 127.0.0.1, ``bench.settings``,
the bare view at /bench/bare/ in one-second slices alternating with each page, same clients):

- every role's home page (its dashboard), coverage, the case list, the complaint list, statistics
  (figures, workload, subsidy), the audit log, the roster, the plan list, the certificate list and
  the unreported certificates, each as the role that reads it, by 4 logged-in keep-alive clients;
- the number of SQL statements of one request to each page (Django test client in-process,
  ``CaptureQueriesContext``), after one warm-up request.

Results: bench/results-oversight-pages.json (``--out``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import web  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results-oversight-pages.json"

# (label, path, role whose demo login reads it)
PAGES = [
    ("首页 home: centre", "/", "centre_reviewer"),
    ("首页 home: commission", "/", "commission_officer"),
    ("首页 home: municipal HR", "/", "municipal_hr_officer"),
    ("首页 home: district HR", "/", "district_hr_officer"),
    ("首页 home: school", "/", "school_staff"),
    ("coverage (commission)", "/oversight/coverage/", "commission_officer"),
    ("coverage (district HR)", "/oversight/coverage/", "district_hr_officer"),
    ("case list (centre)", "/oversight/cases/", "centre_reviewer"),
    ("complaint list (centre)", "/oversight/complaints/", "centre_reviewer"),
    ("statistics (municipal HR)", "/oversight/statistics/", "municipal_hr_officer"),
    ("workload (centre)", "/oversight/statistics/workload/", "centre_reviewer"),
    ("subsidy (centre)", "/oversight/statistics/subsidy/", "centre_reviewer"),
    ("audit log (centre)", "/oversight/audit/", "centre_reviewer"),
    ("roster (commission)", "/oversight/roster/", "commission_officer"),
    ("plan list (centre)", "/assessments/", "centre_reviewer"),
    ("certificate list (centre)", "/certificates/", "centre_reviewer"),
    ("certificate list (district HR)", "/certificates/", "district_hr_officer"),
    ("unreported certificates (centre)", "/certificates/unreported/", "centre_reviewer"),
]

LOGINS_SNIPPET = """
import json, django
django.setup()
from portal.models import User
out = {}
for role in %r:
    user = (User.objects.filter(is_active=True, roles__role=role).exclude(username__startswith="scale")
            .order_by("pk").first())
    out[role] = user.username if user else None
print(json.dumps(out))
"""

QUERIES_SNIPPET = """
import json, django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from portal.models import User
out = []
for label, path, username in %r:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=username))
    client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    out.append([label, response.status_code, len(queries)])
print(json.dumps(out))
"""


def measure(args, database: str, label: str) -> dict:
    args.database = database
    roles = sorted({role for _l, _p, role in PAGES})
    out = subprocess.run(
        [web.PYTHON, "-c", LOGINS_SNIPPET % (roles,)],
        cwd=args.code,
        env=web.env(args),
        check=True,
        capture_output=True,
        timeout=300,
    )
    logins = json.loads(out.stdout.decode().strip().splitlines()[-1])
    chosen = [(name, path, logins[role]) for name, path, role in PAGES if logins.get(role)]
    if args.only:
        chosen = [row for row in chosen if any(word in row[0] for word in args.only)]
    out = subprocess.run(
        [web.PYTHON, "-c", QUERIES_SNIPPET % (chosen,)],
        cwd=args.code,
        env=web.env(args),
        check=True,
        capture_output=True,
        timeout=900,
    )
    queries = {
        name: (status, count) for name, status, count in json.loads(out.stdout.decode().strip().splitlines()[-1])
    }
    bare_login = chosen[0][2]
    web.PAGES[:] = [("bare view, logged in", "/bench/bare/", bare_login, args.clients)] + [
        (name, path, login, args.clients) for name, path, login in chosen
    ]
    measured = web.round_(args, label)
    for row in measured["rows"]:
        status, count = queries.get(row["page"], (None, None))
        row["status_in_process"], row["queries"] = status, count
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", help="database after seed_demo")
    parser.add_argument("--city", help="database after seed_demo and seed_scale")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--code", type=Path, default=ROOT, help="serve this copy of the portal (e.g. git archive HEAD)")
    args = parser.parse_args()
    var_dir = tempfile.mkdtemp(prefix="portal-bench-oversight-")
    base_env = web.env
    web.env = lambda a: {**base_env(a), "PORTAL_VAR_DIR": var_dir}
    load_before = os.getloadavg()[0]
    rounds = []
    for database, label in ((args.demo, "demo"), (args.city, "city")):
        if database:
            rounds.append(measure(args, database, label))
    args.out.write_text(
        json.dumps(
            {
                "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                "machine": {
                    "platform": platform.platform(),
                    "cpu_count": os.cpu_count(),
                    "load_average_1min_before_after": [load_before, os.getloadavg()[0]],
                },
                "server": f"gunicorn gthread, {args.workers} workers x 8 threads, bench.settings (DEBUG off)",
                "clients": args.clients,
                "seconds_per_page": args.seconds,
                "databases": {"demo": args.demo, "city": args.city},
                "code": str(args.code),
                "rounds": web.strip(rounds),
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()
