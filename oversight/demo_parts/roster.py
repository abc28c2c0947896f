"""seed_demo: roster (through the services).

The commission imports the current school year's graduating-student roster from a workbook built
from the schools' records, with a few deliberate mismatches so the reconciliation report has rows
in each category: one candidate left out, one name misspelt, one major code wrong, one ID number
typed wrong, and one person the schools do not know. Run twice, it imports nothing the second time.
"""

from io import BytesIO

from django.db.models import Exists, OuterRef
from django.utils import timezone
from openpyxl import Workbook

from assessments.models import Candidate
from oversight.models import RosterImport
from oversight.selectors.roster import year_bounds
from oversight.services.roster import COLUMNS, roster_import
from portal.validators import id_number_check_char
from schools.models import Student, academic_year_of


def _valid_id(first17: str) -> str:
    return first17 + id_number_check_char(first17)


def build(ctx) -> None:
    """Add this part's demo rows; ctx is portal.demo.DemoContext."""
    commission = ctx.users.get("commission")
    year = academic_year_of(timezone.localdate())
    if commission is None or RosterImport.objects.filter(school_year=year).exists():
        return
    start, end = year_bounds(year)
    students = list(
        Student.objects.filter(expected_graduation__gte=start, expected_graduation__lte=end)
        .annotate(is_candidate=Exists(Candidate.objects.filter(student=OuterRef("pk"))))
        .select_related("school__organisation", "major")
        .order_by("school__organisation__name", "student_number")
    )
    if not students:
        return
    left_out = next((s for s in students if s.is_candidate), None)
    rows = []
    for n, s in enumerate(s for s in students if s is not left_out):
        name, id_number, code = s.name, s.id_number, s.major.code
        if n == 1:
            name = name[:-1] + ("明" if name[-1] != "明" else "亮")  # 姓名不一致
        elif n == 3:
            code = "000000"  # 专业不一致
        elif n == 5 and len(id_number) == 18:
            id_number = _valid_id(id_number[:14] + f"{(int(id_number[14:17]) + 500) % 1000:03d}")  # 证件号码不一致
        rows.append([name, id_number, s.school.organisation.name, s.major.name, code])
    first = students[0]
    rows.append(["陈查无", _valid_id("31011520060101" + "999"), first.school.organisation.name, first.major.name, ""])
    wb = Workbook()
    ws = wb.active
    ws.append([c.header for c in COLUMNS])
    for r in rows:
        ws.append(r)
    out = BytesIO()
    wb.save(out)
    roster_import(actor=commission, school_year=year, data=out.getvalue(), file_name=f"{year}学年毕业学生名册.xlsx")
