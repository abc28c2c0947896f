"""seed_demo: coverage (through the services).

One major of 汇川 that its own filing does not cover is recorded as evaluated by a social evaluation
organisation (the centre records it, with a PDF), then the current and the previous school year are
counted, so the coverage page has figures, a drill-down and an as-of time from the first login.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from oversight.models import CoverageChannel, ExternalEvaluation
from oversight.services.coverage import external_evaluation_record, refresh_coverage
from schools.models import Major, academic_year_of

EVIDENCE_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PROVIDER = "上海数智技能评价中心（社会培训评价组织）"


def build(ctx) -> None:
    """Add this part's demo rows; ctx is portal.demo.DemoContext."""
    current = academic_year_of(timezone.localdate())
    centre = ctx.users.get("centre-reviewer")
    org = ctx.organisations.get("school_huichuan")
    major = Major.objects.filter(school__organisation=org, code="510201").first() if org else None
    if centre is not None and major is not None and not ExternalEvaluation.objects.filter(major=major).exists():
        external_evaluation_record(
            actor=centre,
            major=major,
            school_year=current,
            channel=CoverageChannel.SOCIAL_ORG,
            provider=PROVIDER,
            note="该专业毕业学年学生参加社会培训评价组织组织的“计算机程序设计员”四级认定。",
            evidence=SimpleUploadedFile("评价安排.pdf", EVIDENCE_PDF, content_type="application/pdf"),
        )
    for year in (current - 1, current):
        refresh_coverage(year)
