#!/usr/bin/env python
"""Public certificate verification under gunicorn with concurrent clients, against the bare view.

    .venv/bin/python bench/verify_throughput.py                       # 1,000,000 certificates, about 5 minutes
    .venv/bin/python bench/verify_throughput.py --certificates 100000 --seconds 4
    .venv/bin/python bench/verify_throughput.py --reuse portal_scale      # a database seeded by seed_scale
    .venv/bin/python bench/verify_throughput.py --reuse portal_scale --code /tmp/old-tree --log-buffer off

Reuses the harness of bench/web.py (its load clients, the bare view of bench.settings, the paired
one-second slices so that a page and the bare view see the same share of a shared machine). It
builds its own PostgreSQL database (``--database``, dropped and re-created), runs migrate, issues
one certificate through the real services (an accepted batch, ``issue_one``), then copies its
student, candidate and certificate rows ``--certificates`` times in bulk (``INSERT … SELECT
generate_series``: distinct numbers, tokens, names and ID numbers), and measures with gunicorn
(gthread) on 127.0.0.1:

- the QR link /verify/t/<token>/ (lookup by token, the result page, one log row);
- the JSON API /api/v1/certificates/verify?number=…&name=… (lookup by number and name, one log row);
- the same API with a wrong name (the not-found answer, which must cost the same).

With ``--reuse DB`` nothing is created: the database as it is (e.g. ``seed_scale``'s decade), and the
clients cycle through ``--pool`` certificates drawn at random (so no cache of one answer helps).
``--log-buffer on`` (the default) queues the log rows in Redis as production does
(``PORTAL_VERIFY_LOG_BUFFER=1``); ``off`` writes one row per lookup. ``--code DIR`` serves another
copy of the portal on the same data.

Every lookup is rate-limited and logged as in production; the rate is set high
(``PORTAL_VERIFY_RATE``) so the clients, all on 127.0.0.1, are not refused, but the counter in
Redis is still incremented on each request. Results go to bench/results-verify.json.
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
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import web  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results-verify.json"

SEED_SNIPPET = """
import json, django
django.setup()
from django.db import connection
from certificates.models import Certificate
from tests.certificates.test_verify_builders import issued

N = %d
c0 = issued(1)[0]
k0, s0 = c0.candidate_id, c0.candidate.student_id
with connection.cursor() as cur:
    cur.execute("SELECT coalesce(max(id), 0) FROM schools_student"); bs = cur.fetchone()[0]
    cur.execute("SELECT coalesce(max(id), 0) FROM assessments_candidate"); bk = cur.fetchone()[0]
    cur.execute("SELECT coalesce(max(id), 0) FROM certificates_certificate"); bc = cur.fetchone()[0]
    cur.execute(
        "INSERT INTO schools_student (id, school_id, student_number, name, id_type, id_number, major_id,"
        " enrolment_year, expected_graduation, through_stage, stage_completed_on)"
        " SELECT %%s + g, school_id, 'B' || lpad(g::text, 9, '0'), '学生' || g, id_type,"
        " '3101' || lpad(g::text, 14, '0'), major_id, enrolment_year, expected_graduation, through_stage,"
        " stage_completed_on FROM schools_student, generate_series(1, %%s) g WHERE id = %%s",
        [bs, N, s0],
    )
    cur.execute(
        "INSERT INTO assessments_candidate (id, plan_id, student_id, occupation_id, level, added_round,"
        " added_by_id, added_at, course_score, attendance, attendance_reason, outcome)"
        " SELECT %%s + g, plan_id, %%s + g, occupation_id, level, added_round, added_by_id, added_at,"
        " course_score, attendance, attendance_reason, outcome"
        " FROM assessments_candidate, generate_series(1, %%s) g WHERE id = %%s",
        [bk, bs, N, k0],
    )
    cur.execute(
        "INSERT INTO certificates_certificate (id, number, institution_id, candidate_id, plan_id, name, id_type,"
        " id_number, occupation_id, occupation_name, work_type, level, institution_name, issued_on, token, status,"
        " status_changed_at, status_reason, supersedes_id, photo, pdf, pdf_sha256, pdf_rendered_at, issued_by_id,"
        " created_at, report_id, national_export_id)"
        " SELECT %%s + g, left(number, 14) || lpad(g::text, 8, '0'), institution_id, %%s + g, plan_id,"
        " '学生' || g, id_type, '3101' || lpad(g::text, 14, '0'), occupation_id, occupation_name, work_type,"
        " level, institution_name, issued_on, md5(random()::text || g::text) || md5(g::text), status,"
        " status_changed_at, status_reason, NULL, photo, '', '', NULL, issued_by_id, now(), NULL, NULL"
        " FROM certificates_certificate, generate_series(1, %%s) g WHERE id = %%s",
        [bc, bk, N, c0.pk],
    )
    for table in ("schools_student", "assessments_candidate", "certificates_certificate"):
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute(f"ANALYZE {table}")
middle = Certificate.objects.get(pk=bc + N // 2)
print(json.dumps({"count": Certificate.objects.count(), "token": middle.token, "number": middle.number,
                  "name": middle.name}))
"""


_web_env = web.env


def env(args) -> dict:
    return {
        **_web_env(args),
        "PORTAL_VERIFY_RATE": "100000000/m",
        "PORTAL_VAR_DIR": args.var_dir,
        "PORTAL_VERIFY_LOG_BUFFER": "1" if args.log_buffer == "on" else "0",
    }


POOL_SNIPPET = """
import json, django
django.setup()
from certificates.models import Certificate
ids = list(Certificate.objects.order_by("?").values_list("pk", flat=True)[:%d])
rows = list(Certificate.objects.filter(pk__in=ids).values_list("token", "number", "name"))
print(json.dumps({"count": Certificate.objects.count(), "rows": rows}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="portal_bench_verify")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--certificates", type=int, default=1_000_000)
    parser.add_argument("--reuse", metavar="DB", help="measure this database as it is (no seeding)")
    parser.add_argument("--pool", type=int, default=5000, help="with --reuse: distinct certificates cycled")
    parser.add_argument("--log-buffer", choices=("on", "off"), default="on")
    parser.add_argument("--code", type=Path, default=ROOT, help="serve this copy of the portal")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.only = []
    args.var_dir = tempfile.mkdtemp(prefix="portal-bench-verify-")
    web.env = env  # the harness's gunicorn and manage() get this environment too (rate, var dir)

    api = "/api/v1/certificates/verify?"
    if args.reuse:
        args.database = args.reuse
        out = subprocess.run(
            [web.PYTHON, "-c", POOL_SNIPPET % args.pool],
            cwd=ROOT,
            env=env(args),
            check=True,
            capture_output=True,
            timeout=600,
        )
        drawn = json.loads(out.stdout.decode().strip().splitlines()[-1])
        seeded, seed_seconds = {"count": drawn["count"]}, None
        rows = drawn["rows"]
        print(f"{drawn['count']:,} certificates; {len(rows):,} drawn at random", flush=True)
    else:
        subprocess.run(["dropdb", "-h", web.HOST, "-U", "postgres", "--if-exists", args.database], check=True)
        subprocess.run(["createdb", "-h", web.HOST, "-U", "postgres", args.database], check=True)
        web.manage(args, "migrate", "-v0")
        started = time.monotonic()
        out = subprocess.run(
            [web.PYTHON, "-c", SEED_SNIPPET % args.certificates],
            cwd=ROOT,
            env=env(args),
            check=True,
            capture_output=True,
            timeout=1800,
        )
        seeded = json.loads(out.stdout.decode().strip().splitlines()[-1])
        seed_seconds = time.monotonic() - started
        rows = [(seeded["token"], seeded["number"], seeded["name"])]
        print(f"{seeded['count']:,} certificates in {seed_seconds:.0f} s", flush=True)

    web.PAGES[:] = [
        ("bare view (baseline)", "/bench/bare/", None, args.clients),
        ("QR link /verify/t/<token>/", [f"/verify/t/{token}/" for token, _n, _name in rows], None, args.clients),
        (
            "API by number and name",
            [api + urlencode({"number": number, "name": name}) for _t, number, name in rows],
            None,
            args.clients,
        ),
        (
            "API, wrong name (not found)",
            [api + urlencode({"number": number, "name": "王小明"}) for _t, number, _name in rows],
            None,
            args.clients,
        ),
    ]
    load_before = os.getloadavg()[0]
    measured = web.round_(args, f"{seeded['count']:,}")
    for row in measured["rows"]:
        if isinstance(row["path"], list):
            row["path"] = f"{len(row['path'])} paths cycled, e.g. {row['path'][0]}"
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
                "certificates": seeded["count"],
                "seed_seconds": round(seed_seconds, 1) if seed_seconds else None,
                "database": args.database,
                "distinct_certificates_cycled": len(rows),
                "log_buffer": args.log_buffer,
                "code": str(args.code),
                "rounds": web.strip([measured]),
            },
            ensure_ascii=False,
            indent=1,
        )
    )
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()
