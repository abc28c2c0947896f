#!/usr/bin/env python
"""Benchmark of the Excel candidate import (assessments.candidate_import) on a throwaway SQLite database.

    .venv/bin/python bench/candidate_import.py            # 10,000 rows, median of 3 runs
    .venv/bin/python bench/candidate_import.py --rows 2000 --runs 5

The figure that matters is a ratio: the whole import (read the file, match every row to a
student, check every candidate rule, bulk-create the candidacies and their history rows in one
transaction) against the time openpyxl takes to open the same workbook read-only and iterate
every row, measured in the same process right before each run. Goal: at most 3×. Results go
to bench/results-candidates.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
VAR_DIR = tempfile.mkdtemp(prefix="portal-bench-candidates-")
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
from django.utils import timezone  # noqa: E402
from openpyxl import Workbook, load_workbook  # noqa: E402

from assessments import candidate_import  # noqa: E402
from assessments.models import AssessmentMethod, Candidate, EvaluationPlan, PlanStatus  # noqa: E402
from institutions.models import (  # noqa: E402
    ApplicationStatus,
    AppliedOccupation,
    AssessmentSite,
    EvaluationBasis,
    ExpertPanel,
    FilingApplication,
    Institution,
    InstitutionOccupation,
    PanelConclusion,
)
from portal.models import (  # noqa: E402
    District,
    Job,
    JobStatus,
    Occupation,
    Organisation,
    OrganisationKind,
    Role,
    User,
    UserRole,
)
from portal.services import job_start  # noqa: E402
from portal.validators import id_number_check_char, uscc_check_char  # noqa: E402
from schools.models import Level, Major, School, SchoolType, Student, TrainingLevel  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results-candidates.json"
BATCH_START = dt.datetime(2026, 12, 10, 9, 0)
GRADUATION = dt.date(2027, 6, 30)


def unique_id(n: int) -> str:
    """A GB 11643-valid, invented number, unique for n < 365,000."""
    birth = dt.date(2005, 1, 1) + dt.timedelta(days=n // 1000)
    first17 = f"310115{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


class World:
    """A filed institution (welders, 五级–三级) whose filing names one evaluated major, with
    ``rows`` graduating-year students of that major and one staff member."""

    def __init__(self, rows: int):
        org = Organisation.objects.create(
            kind=OrganisationKind.SCHOOL, name="基准测试职业学院", district=District.objects.get(code="310115")
        )
        first17 = "12310000" + f"{700000001:09d}"
        self.school = School.objects.create(
            organisation=org, school_type=SchoolType.INDEPENDENT_HIGHER, uscc=first17 + uscc_check_char(first17)
        )
        self.staff = User.objects.create_user(username="bench-staff", password=None, organisation=org, full_name="基准")
        UserRole.objects.create(user=self.staff, role=Role.SCHOOL_STAFF)
        centre_org = Organisation.objects.create(kind=OrganisationKind.CENTRE, name="基准测试中心")
        centre = User.objects.create_user(username="bench-centre", password=None, organisation=centre_org)
        today = timezone.localdate()
        application = FilingApplication.objects.create(
            school=self.school, status=ApplicationStatus.FILED, round=1, created_by=self.staff
        )
        self.institution = Institution.objects.create(
            school=self.school,
            category_letter="S",
            site_sequence="000001",
            confirmed_on=today - dt.timedelta(days=30),
            valid_until=today + dt.timedelta(days=3 * 365),
        )
        welder = Occupation.objects.get(code="6-18-02-04", work_type="")
        self.row = InstitutionOccupation.objects.create(
            institution=self.institution,
            occupation=welder,
            lowest_level=Level.LEVEL_5,
            highest_level=Level.LEVEL_3,
            basis=EvaluationBasis.NATIONAL_STANDARD,
            confirmed_on=self.institution.confirmed_on,
            valid_until=self.institution.valid_until,
            application=application,
        )
        self.major = Major.objects.create(
            school=self.school, code="460104", name="焊接技术与自动化", training_level=TrainingLevel.HIGHER
        )
        applied = AppliedOccupation.objects.create(
            application=application,
            occupation=welder,
            lowest_level=Level.LEVEL_5,
            highest_level=Level.LEVEL_3,
            basis=EvaluationBasis.NATIONAL_STANDARD,
        )
        applied.majors.add(self.major)
        ExpertPanel.objects.create(application=application, formed_by=centre, conclusion=PanelConclusion.PASS)
        self.site = AssessmentSite.objects.create(
            application=application, institution=self.institution, name="站点", address="实训楼"
        )
        Student.objects.bulk_create(
            [
                Student(
                    school=self.school,
                    major=self.major,
                    student_number=f"S{n:06d}",
                    name=f"学生{n}",
                    id_number=unique_id(n),
                    enrolment_year=2024,
                    expected_graduation=GRADUATION,
                )
                for n in range(1, rows + 1)
            ],
            batch_size=2000,
        )
        self.students = list(Student.objects.filter(school=self.school).order_by("student_number"))

    def fresh_plan(self) -> EvaluationPlan:
        """A new draft batch; the earlier ones are withdrawn so the same students may be added again."""
        EvaluationPlan.objects.filter(institution=self.institution).update(status=PlanStatus.WITHDRAWN)
        start = timezone.make_aware(BATCH_START)
        return EvaluationPlan.objects.create(
            institution=self.institution,
            occupation=self.row,
            level=Level.LEVEL_4,
            site=self.site,
            method=AssessmentMethod.RESULT,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=8),
            created_by=self.staff,
        )

    def workbook(self) -> bytes:
        # A normal (not write-only) workbook: like a file saved by Excel it records <dimension>.
        wb = Workbook()
        ws = wb.active
        ws.title = "考生名单"
        ws.append([c.header for c in candidate_import.COLUMNS])
        for s in self.students:
            ws.append([s.student_number, s.id_number, s.name])
        buffer = BytesIO()
        wb.save(buffer)
        return buffer.getvalue()


class Timer:
    def __enter__(self):
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def baseline(data: bytes) -> Timer:
    with Timer() as t:
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
        count = sum(1 for _row in wb.worksheets[0].iter_rows(values_only=True))
        wb.close()
    assert count > 1
    return t


def full_import(world: World, data: bytes, rows: int) -> Timer:
    plan = world.fresh_plan()
    with Timer() as t:
        result = candidate_import.import_file(plan=plan, actor=world.staff, data=data)
    assert result["created"] == rows, result
    return t


def whole_job(world: World, data: bytes, rows: int) -> Timer:
    plan = world.fresh_plan()
    with Timer() as t:
        job = job_start(
            kind=candidate_import.KIND,
            actor=world.staff,
            params={"plan_id": plan.pk},
            upload=SimpleUploadedFile("考生名单.xlsx", data),
        )
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED and job.result["created"] == rows, job.errors[:3]
    return t


def query_count(world: World, data: bytes) -> dict:
    plan = world.fresh_plan()
    with CaptureQueriesContext(connection) as ctx:
        candidate_import.import_file(plan=plan, actor=world.staff, data=data)
    sqls = [q["sql"].lstrip().upper() for q in ctx.captured_queries]
    inserts = [s for s in sqls if s.startswith("INSERT")]
    return {"total": len(sqls), "inserts": len(inserts), "other": len(sqls) - len(inserts)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary database directory")
    args = parser.parse_args()
    try:
        call_command("migrate", verbosity=0)
        load_before = os.getloadavg()
        world = World(args.rows)
        data = world.workbook()
        full_import(world, data, args.rows)  # warm-up
        runs = []
        for _ in range(args.runs):
            base = baseline(data)  # right before each run, so a load swing hits both alike
            imp = full_import(world, data, args.rows)
            job = whole_job(world, data, args.rows)
            runs.append({"baseline": base, "import": imp, "job": job})
        queries = query_count(world, data)
        assert Candidate.objects.count() == args.rows * (2 * args.runs + 2)
        load_after = os.getloadavg()

        def med(step, clock="wall"):
            return round(statistics.median(getattr(r[step], clock) for r in runs), 4)

        def ratio(step, clock="wall"):
            return round(statistics.median(getattr(r[step], clock) / getattr(r["baseline"], clock) for r in runs), 2)

        report = {
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {
                "platform": platform.platform(),
                "cpu_count": os.cpu_count(),
                "python": platform.python_version(),
                "django": django.get_version(),
                "sqlite": sqlite3.sqlite_version,
                "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            },
            "rows": args.rows,
            "file_bytes": len(data),
            "runs": args.runs,
            "baseline_read_only_s": med("baseline"),
            "import_s": med("import"),
            "import_ratio": ratio("import"),
            "whole_job_s": med("job"),
            "whole_job_ratio": ratio("job"),
            "cpu": {
                "baseline_s": med("baseline", "cpu"),
                "import_s": med("import", "cpu"),
                "import_ratio": ratio("import", "cpu"),
                "whole_job_ratio": ratio("job", "cpu"),
            },
            "runs_wall_s": {step: [round(r[step].wall, 4) for r in runs] for step in ("baseline", "import", "job")},
            "queries_per_import": queries,
        }
        RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        m = report["machine"]
        print(
            f"Candidate import benchmark — {report['date']} — {m['cpu_count']} CPUs, Python {m['python']}, "
            f"SQLite {m['sqlite']}, load average {m['load_average_1min_before_after']}"
        )
        print(f"{args.rows} rows, median of {args.runs} runs (wall; CPU in brackets):")
        print(f"  baseline (openpyxl read-only read) {report['baseline_read_only_s']:.3f}s")
        print(
            f"  import (parse+validate+write)      {report['import_s']:.3f}s  ×{report['import_ratio']} "
            f"(CPU ×{report['cpu']['import_ratio']})  goal ≤ 3×"
        )
        print(
            f"  whole job (upload, job, progress)  {report['whole_job_s']:.3f}s  ×{report['whole_job_ratio']} "
            f"(CPU ×{report['cpu']['whole_job_ratio']})"
        )
        print(f"  SQL per import: {queries}")
        print(f"written to {RESULTS.relative_to(ROOT)}")
    finally:
        connection.close()
        if args.keep:
            print(f"database kept in {VAR_DIR}")
        else:
            shutil.rmtree(VAR_DIR, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
