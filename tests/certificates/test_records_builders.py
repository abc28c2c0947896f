"""Issued certificates for the records, photos and reporting tests: an accepted batch whose results
were filed and accepted, and a certificate issued through ``issue_one`` for each passed candidate."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import time_machine
from PIL import Image

from assessments.models import Attendance
from assessments.services import results
from certificates.models import Certificate
from certificates.services.issuance import issue_one
from certificates.services.photos import photo_save
from tests.assessments.test_results_builders import AFTER_BATCH, Batch, batch

ISSUED_ON = dt.date(2026, 12, 20)


@dataclass
class Issued:
    b: Batch
    certificates: list[Certificate] = field(default_factory=list)

    @property
    def staff(self):
        return self.b.staff

    @property
    def centre(self):
        return self.b.centre

    @property
    def plan(self):
        return self.b.plan


def jpeg(size: tuple[int, int] = (295, 413), colour=(250, 250, 250), fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def accepted_batch(n: int = 2, **kwargs) -> Batch:
    b = batch(n, **kwargs)
    with time_machine.travel(AFTER_BATCH, tick=False):
        results.attendance_record(
            plan=b.plan, actor=b.staff, entries={c.pk: (Attendance.PRESENT, "") for c in b.candidates}
        )
        results.scores_save(
            plan=b.plan, actor=b.staff, typed={c.pk: {"theory": "80", "practical": "75"} for c in b.candidates}
        )
        results.results_submit(plan=b.plan, actor=b.staff)
        results.results_accept(plan=b.plan, actor=b.centre)
    for c in b.candidates:
        c.refresh_from_db()
    b.plan.refresh_from_db()
    return b


def issued(n: int = 2, *, issued_on: dt.date = ISSUED_ON, **kwargs) -> Issued:
    b = accepted_batch(n, **kwargs)
    out = Issued(b)
    for c in b.candidates:
        photo_save(student=c.student, actor=b.staff, data=jpeg(), name=f"{c.student.student_number}.jpg")
        out.certificates.append(issue_one(candidate=c, actor=b.staff, issued_on=issued_on))
    return out
