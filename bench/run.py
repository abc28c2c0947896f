#!/usr/bin/env python
"""Benchmark of the Excel student import (schools.excel) on a throwaway SQLite database.

    .venv/bin/python bench/run.py            # 1,000 and 5,000 rows, median of 3 runs
    .venv/bin/python bench/run.py --keep     # keep the temporary database directory

Every figure is also given as a ratio against a baseline measured in the same process on the
same workbook: opening it with openpyxl in read-only mode and iterating every row. Ratios
travel between machines better than seconds do. Results go to bench/results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# A throwaway database and media directory: set before Django reads its settings.
VAR_DIR = tempfile.mkdtemp(prefix="portal-bench-")
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
os.environ["PORTAL_VAR_DIR"] = VAR_DIR
for name in ("DATABASE_URL", "REDIS_URL"):  # SQLite and eager Celery, whatever the shell says
    os.environ.pop(name, None)

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.getLogger("celery").setLevel(logging.WARNING)

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from openpyxl import Workbook, load_workbook  # noqa: E402

from portal.models import District, Job, JobStatus, Organisation, OrganisationKind, Role, User, UserRole  # noqa: E402
from portal.services import job_start  # noqa: E402
from portal.validators import id_number_check_char, uscc_check_char  # noqa: E402
from schools.excel import STUDENT_COLUMNS, parse_students  # noqa: E402
from schools.models import Major, School, SchoolType, Student, TrainingLevel  # noqa: E402
from schools.services import student_import  # noqa: E402

SIZES = (1000, 5000)
RUNS = 3
MAJOR_CODE = "460104"
RESULTS = Path(__file__).resolve().parent / "results.json"
_school_seq = 0


# --- Data ------------------------------------------------------------------------------


def unique_id(n: int) -> str:
    """A GB 11643-valid, invented number, unique for n < 365,000."""
    birth = dt.date(2005, 1, 1) + dt.timedelta(days=n // 1000)
    first17 = f"310115{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def student_workbook(rows: int) -> bytes:
    # A normal (not write-only) workbook: like a file saved by Excel it records the sheet's
    # <dimension>, without which openpyxl's read-only reader first scans the whole sheet.
    wb = Workbook()
    ws = wb.active
    ws.title = "学籍学生"
    ws.append([c.header for c in STUDENT_COLUMNS])
    for n in range(1, rows + 1):
        ws.append([f"S{n:06d}", f"学生{n}", "居民身份证", unique_id(n), MAJOR_CODE, 2024, "2027-06-30", ""])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def fresh_school() -> tuple[School, User]:
    """A new school with one major and one staff member, so no run sees another's students."""
    global _school_seq
    _school_seq += 1
    n = _school_seq
    org = Organisation.objects.create(
        kind=OrganisationKind.SCHOOL, name=f"基准测试职业学院{n}", district=District.objects.get(code="310115")
    )
    first17 = "12310000" + f"{700000000 + n:09d}"
    school = School.objects.create(
        organisation=org, school_type=SchoolType.INDEPENDENT_HIGHER, uscc=first17 + uscc_check_char(first17)
    )
    Major.objects.create(school=school, code=MAJOR_CODE, name="机电一体化技术", training_level=TrainingLevel.HIGHER)
    user = User.objects.create_user(username=f"bench-{n}", password=None, organisation=org, full_name="基准测试")
    UserRole.objects.create(user=user, role=Role.SCHOOL_STAFF)
    return school, user


# --- Measurements ----------------------------------------------------------------------


class Timer:
    """Wall-clock and CPU time of a block (CPU time is this process only: steadier on a busy machine)."""

    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def read_only_baseline(data: bytes) -> Timer:
    with Timer() as t:
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
        count = sum(1 for _row in wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
    assert count > 1
    return t


def parse_and_write(data: bytes, rows: int) -> tuple[Timer, Timer]:
    school, user = fresh_school()
    with Timer() as parse_t:
        parsed, errors = parse_students(data, school)
    assert not errors, errors[:3]
    with Timer() as write_t:
        result = student_import(school=school, actor=user, rows=parsed)
    assert result == {"created": rows}, result
    return parse_t, write_t


def whole_job(data: bytes, rows: int) -> Timer:
    """The job as a user starts it: upload saved, task run eagerly on commit, job finished."""
    school, user = fresh_school()
    with Timer() as t:
        job = job_start(
            kind="import_students",
            actor=user,
            params={"school_id": school.pk},
            upload=SimpleUploadedFile("学籍学生.xlsx", data),
        )
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED and job.result == {"created": rows}, job.errors[:3]
    assert job.progress == job.total == rows
    return t


def query_counts(data: bytes, rows: int) -> dict:
    school, user = fresh_school()
    with CaptureQueriesContext(connection) as parse_q:
        parsed, errors = parse_students(data, school)
    assert not errors
    with CaptureQueriesContext(connection) as write_q:
        student_import(school=school, actor=user, rows=parsed)

    def kinds(ctx) -> dict:
        sqls = [q["sql"].lstrip().upper() for q in ctx.captured_queries]
        inserts = [s for s in sqls if s.startswith("INSERT")]
        return {
            "total": len(sqls),
            "insert_student": sum(1 for s in inserts if 'INTO "SCHOOLS_STUDENT"' in s),
            "insert_history": sum(1 for s in inserts if 'INTO "SCHOOLS_HISTORICALSTUDENT"' in s),
            "other": len(sqls) - len(inserts),
        }

    return {"parse": kinds(parse_q), "write": kinds(write_q)}


def median_of(runs: list[dict], step: str, clock: str = "wall") -> float:
    return statistics.median(getattr(r[step], clock) for r in runs)


def median_ratio(runs: list[dict], step: str, clock: str = "wall") -> float:
    """Median of the per-run ratios step / baseline."""
    return round(statistics.median(getattr(r[step], clock) / getattr(r["baseline"], clock) for r in runs), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary database directory")
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()

    try:
        call_command("migrate", verbosity=0)
        load_before = os.getloadavg()
        parse_and_write(student_workbook(500), 500)  # warm-up: imports, caches, first SQLite pages
        figures = []
        students_written = 500
        for rows in SIZES:
            data = student_workbook(rows)
            runs = []
            for _ in range(args.runs):
                # The baseline is taken right before each run, so a load swing hits both alike.
                base = read_only_baseline(data)
                parse_t, write_t = parse_and_write(data, rows)
                job_t = whole_job(data, rows)
                runs.append({"baseline": base, "parse": parse_t, "write": write_t, "job": job_t})
            students_written += rows * 2 * args.runs
            med = functools.partial(median_of, runs)
            ratio = functools.partial(median_ratio, runs)
            figures.append(
                {
                    "rows": rows,
                    "file_bytes": len(data),
                    "baseline_read_only_s": round(med("baseline"), 4),
                    "parse_validate_s": round(med("parse"), 4),
                    "write_s": round(med("write"), 4),
                    "whole_job_s": round(med("job"), 4),
                    "parse_validate_ratio": ratio("parse"),
                    "write_ratio": ratio("write"),
                    "parse_plus_write_ratio": round(
                        statistics.median((r["parse"].wall + r["write"].wall) / r["baseline"].wall for r in runs), 2
                    ),
                    "whole_job_ratio": ratio("job"),
                    "rows_per_s_parse_plus_write": round(rows / (med("parse") + med("write"))),
                    "cpu": {
                        "baseline_s": round(med("baseline", "cpu"), 4),
                        "parse_validate_s": round(med("parse", "cpu"), 4),
                        "write_s": round(med("write", "cpu"), 4),
                        "parse_validate_ratio": ratio("parse", "cpu"),
                        "write_ratio": ratio("write", "cpu"),
                        # The whole job, as the 5,000-row test runs it (that test asserts outcomes only).
                        "whole_job_s": round(med("job", "cpu"), 4),
                        "whole_job_ratio": ratio("job", "cpu"),
                    },
                    "runs_wall_s": {
                        step: [round(r[step].wall, 4) for r in runs] for step in ("baseline", "parse", "write", "job")
                    },
                    "queries": query_counts(data, rows),
                }
            )
            students_written += rows
        assert Student.objects.count() == students_written
        load_after = os.getloadavg()

        report = {
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
                "cpu_count": os.cpu_count(),
                "python": platform.python_version(),
                "django": django.get_version(),
                "sqlite": sqlite3.sqlite_version,
                "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            },
            "method": (
                f"median of {args.runs} runs after one warm-up, fresh school each run; each ratio is the median "
                "of per-run ratios against the time to open the same workbook with openpyxl read_only=True and "
                "iterate all rows, measured in the same process right before the run"
            ),
            "results": figures,
        }
        RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print_table(report)
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    finally:
        connection.close()
        if args.keep:
            print(f"database kept in {VAR_DIR}")
        else:
            shutil.rmtree(VAR_DIR, ignore_errors=True)
    return 0


def print_table(report: dict) -> None:
    m = report["machine"]
    print(
        f"Student import benchmark — {report['date']} — {m['platform']}, {m['cpu_count']} CPUs, "
        f"Python {m['python']}, Django {m['django']}, SQLite {m['sqlite']}, "
        f"load average {m['load_average_1min_before_after'][0]} → {m['load_average_1min_before_after'][1]}"
    )
    print(report["method"])
    head = (
        f"{'rows':>6} {'baseline':>9} {'parse+val':>10} {'×':>6} {'write':>8} {'×':>6} {'job':>8} {'×':>6} "
        f"{'rows/s':>7}"
    )
    print(head)
    print("-" * len(head))
    for f in report["results"]:
        print(
            f"{f['rows']:>6} {f['baseline_read_only_s']:>8.3f}s {f['parse_validate_s']:>9.3f}s "
            f"{f['parse_validate_ratio']:>6.2f} {f['write_s']:>7.3f}s {f['write_ratio']:>6.2f} "
            f"{f['whole_job_s']:>7.3f}s {f['whole_job_ratio']:>6.2f} {f['rows_per_s_parse_plus_write']:>7}"
        )
    print("\nCPU time of this process (steadier than wall time when other work shares the machine):")
    for f in report["results"]:
        c = f["cpu"]
        print(
            f"{f['rows']:>6} rows: baseline {c['baseline_s']:.3f}s, parse+validate {c['parse_validate_s']:.3f}s "
            f"(×{c['parse_validate_ratio']}), write {c['write_s']:.3f}s (×{c['write_ratio']}), "
            f"whole job {c['whole_job_s']:.3f}s (×{c['whole_job_ratio']})"
        )
    print("\nSQL queries per import (parse / write; write split into student inserts, history inserts, other):")
    for f in report["results"]:
        q = f["queries"]
        print(
            f"{f['rows']:>6} rows: parse {q['parse']['total']} | write {q['write']['total']} = "
            f"{q['write']['insert_student']} + {q['write']['insert_history']} + {q['write']['other']}"
        )


if __name__ == "__main__":
    sys.exit(main())
