"""Demo certificates (issue 9 item 11), made through the services.

For each demo batch whose results the centre accepted (assessments.demo builds one), every passed
candidate gets a photo (a small generated JPEG) and a certificate (``issue_one``, and the PDF
through ``documents.certificate_render`` where that module is present); then the school asks to
revoke one and to correct another's name, and the centre approves both, so the demo holds a
valid, a revoked and a superseded certificate with its successor. The batch is reported to the
centre, which receives it. ``python manage.py list_demo_certificates`` prints them.
"""

from __future__ import annotations

import io
import logging

from django.utils import timezone
from PIL import Image, ImageDraw

from assessments.models import EvaluationPlan, ResultStatus
from assessments.services.results import passed_candidates
from certificates.models import Certificate, RequestKind
from certificates.services import records, reporting
from certificates.services.issuance import issue_one
from certificates.services.photos import photo_save
from portal.demo import DemoContext

logger = logging.getLogger(__name__)


def demo_photo(seed: int) -> bytes:
    """A 1-inch portrait on white (295×413 px): a plain figure, different per candidate."""
    image = Image.new("RGB", (295, 413), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    shade = (40 + seed * 37 % 120, 60 + seed * 53 % 100, 90 + seed * 29 % 120)
    draw.ellipse((97, 70, 197, 190), fill=(236, 200, 170))  # face
    draw.rectangle((60, 220, 235, 413), fill=shade)  # shoulders
    draw.rectangle((97, 50, 197, 95), fill=(30, 30, 30))  # hair
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _render(certificate: Certificate) -> None:
    try:
        from certificates.services import documents
    except ImportError:
        return
    try:
        if hasattr(documents, "ensure_demo_identity"):
            documents.ensure_demo_identity()
        documents.certificate_render(certificate_id=certificate.pk)
    except Exception:  # the demo stands without a PDF; the issue page renders it again
        logger.exception("demo PDF for %s not rendered", certificate.number)


def build(ctx: DemoContext) -> None:
    if Certificate.objects.exists():
        return  # already built; seed_demo may run again
    staff = ctx.users.get("school-mingde")
    centre = ctx.users.get("centre-reviewer")
    if staff is None or centre is None:
        return
    plans = EvaluationPlan.objects.filter(results__status=ResultStatus.ACCEPTED).order_by("pk")
    issued: list[Certificate] = []
    today = timezone.localdate()
    for plan in plans:
        for candidate in passed_candidates(plan).order_by("student__student_number"):
            photo_save(
                student=candidate.student,
                actor=staff,
                data=demo_photo(candidate.pk),
                name=f"{candidate.student.student_number}.jpg",
                plan=plan,
            )
            issued.append(issue_one(candidate=candidate, actor=staff, issued_on=today))
    for certificate in issued:
        _render(certificate)
    if len(issued) >= 3:
        revoke = records.request_create(
            certificate=issued[-1],
            actor=staff,
            kind=RequestKind.REVOKE,
            reason="经核查，该考生实操考核存在他人代考情形，申请撤销证书。",
        )
        records.request_approve(request=revoke, actor=centre, comment="经核实，同意撤销。")
        wrong = issued[-2]
        correct = records.request_create(
            certificate=wrong,
            actor=staff,
            kind=RequestKind.CORRECT,
            reason="姓名录入有误（同音字），附户籍证明。",
            name=wrong.name[:-1] + ("华" if not wrong.name.endswith("华") else "明"),
        )
        records.request_approve(request=correct, actor=centre, comment="同意更正，换发新证。")
        successor = Certificate.objects.get(supersedes=wrong)
        _render(successor)
    for plan in plans:
        if reporting.unreported_of_plan(plan).exists():
            report = reporting.report_submit(plan=plan, actor=staff)
            reporting.report_receive(report=report, actor=centre)
