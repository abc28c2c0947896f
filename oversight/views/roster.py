"""Oversight: roster pages (信息共享, issue 10 item 5; see ``oversight.services.roster`` and
``oversight.selectors.roster``).

The commission imports a school year's graduating-student roster (a background job, then the job's
page with its progress and, on failure, every row's problem); everyone who reads schools opens the
reconciliation report, scoped to their schools, and exports it both ways: education → HR (the
roster with each student's certificates) and HR → education (the candidates with the mismatch flags).
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from certificates.models import Certificate, CertificateStatus
from oversight.selectors import roster as selectors
from oversight.services import roster as service
from portal.access import roles_required
from portal.excel import TEXT_FORMAT, export_sheet, xlsx_response
from portal.forms import ExcelUploadForm
from portal.services import job_start
from schools.models import academic_year_of

PAGE_SIZE = 50
CHUNK = 2000


def _year_choices() -> list[tuple[int, str]]:
    current = academic_year_of(timezone.localdate())
    return [(y, f"{y}–{y + 1}") for y in range(current + 1, current - 4, -1)]


class RosterImportForm(ExcelUploadForm):
    school_year = forms.TypedChoiceField(label=gettext_lazy("毕业学年"), coerce=int, choices=())

    field_order = ["school_year", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_year"].choices = _year_choices()
        self.fields["school_year"].initial = academic_year_of(timezone.localdate())
        self.fields["school_year"].widget.attrs["class"] = "form-select"
        self.order_fields(self.field_order)


@roles_required(*selectors.READER_ROLES)
def roster_list(request: HttpRequest) -> HttpResponse:
    rosters = list(selectors.roster_list(user=request.user).order_by("-school_year", "-uploaded_at")[:200])
    current: set[int] = set()
    for r in rosters:  # the newest of each school year is the one reports use
        r.is_current = r.school_year not in current
        current.add(r.school_year)
    return render(
        request,
        "oversight/roster/list.html",
        {"rosters": rosters, "may_import": service.may_import(request.user)},
    )


@roles_required(*service.IMPORT_ROLES)
def roster_import(request: HttpRequest) -> HttpResponse:
    form = RosterImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = job_start(
            kind=service.KIND,
            actor=request.user,
            params={"school_year": form.cleaned_data["school_year"]},
            upload=form.cleaned_data["file"],
        )
        return redirect("job_detail", pk=job.pk)
    return render(request, "oversight/roster/import.html", {"form": form, "columns": service.COLUMNS})


@roles_required(*service.IMPORT_ROLES)
def roster_template(request: HttpRequest) -> HttpResponse:
    return xlsx_response(service.template(), "毕业学年学生名册-模板.xlsx")


@roles_required(*selectors.READER_ROLES)
def roster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The reconciliation report: each category's count, and the rows of the chosen one, paginated."""
    roster = selectors.roster_detail(user=request.user, pk=pk)
    counts = selectors.category_counts(roster, user=request.user)
    key = request.GET.get("category") or next((c.key for c in selectors.CATEGORIES if counts[c.key]), "not_in_roster")
    if key not in selectors.BY_KEY:
        raise Http404
    page = Paginator(selectors.category_rows(roster, key, user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "oversight/roster/detail.html",
        {
            "roster": roster,
            "newer": selectors.newer_import(roster),
            "categories": [(c, counts[c.key]) for c in selectors.CATEGORIES],
            "category": selectors.BY_KEY[key],
            "counts": counts,
            "page": page,
            "query": f"category={key}",
        },
    )


# --- Exports ------------------------------------------------------------------------------------


def _notes(wb: Workbook, roster, user, direction: str) -> None:
    notes = wb.create_sheet("导出说明")
    notes.append(["方向", direction])
    notes.append(["毕业学年", f"{roster.school_year}–{roster.school_year + 1}"])
    notes.append(["名册文件", roster.original_name])
    notes.append(["导出人", user.full_name or user.username])
    notes.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 40


def _yes(flag: bool) -> str:
    return "是" if flag else ""


def _certificates_of(id_numbers: list[str]) -> dict[str, list[Certificate]]:
    out: dict[str, list[Certificate]] = {}
    rows = (
        Certificate.objects.filter(id_number__in=id_numbers, status=CertificateStatus.VALID)
        .only("number", "id_number", "occupation_name", "level", "issued_on", "report_id")
        .order_by("issued_on", "number")
    )
    for c in rows:
        out.setdefault(c.id_number, []).append(c)
    return out


def _chunks(qs):
    chunk = []
    for row in qs.iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


EDU_COLUMNS = (
    ("行号", 6),
    ("姓名", 10),
    ("证件号码", 22),
    ("学校", 28),
    ("专业", 20),
    ("专业代码", 10),
    ("学籍匹配", 8),
    ("证书数", 7),
    ("证书编号", 50),
    ("职业（等级）", 40),
    ("已报送市职鉴中心", 14),
    ("姓名不一致", 10),
    ("学校不一致", 10),
    ("专业不一致", 10),
)


@roles_required(*selectors.READER_ROLES)
def roster_export_edu(request: HttpRequest, pk: int) -> HttpResponse:
    """Education → HR: the roster (the rows in the reader's scope), each student's certificates."""
    roster = selectors.roster_detail(user=request.user, pk=pk)
    wb = Workbook()
    ws = export_sheet(wb, "名册与获证情况", EDU_COLUMNS, first=True, freeze=True)
    for chunk in _chunks(selectors.entries(roster, user=request.user)):
        certificates = _certificates_of([e.id_number for e in chunk])
        for e in chunk:
            flags = selectors.entry_flags(e)
            held = certificates.get(e.id_number, [])
            ws.append(
                [
                    e.row_number,
                    e.name,
                    e.id_number,
                    e.school_name,
                    e.major_name,
                    e.major_code,
                    "是" if flags["matched"] else "否",
                    len(held),
                    "、".join(c.number for c in held),
                    "、".join(f"{c.occupation_name}（{c.level}级）" for c in held),
                    ("否" if any(c.report_id is None for c in held) else "是") if held else "",
                    _yes(flags["name"]),
                    _yes(flags["school"]),
                    _yes(flags["major"]),
                ]
            )
            for col in (3, 6, 9):
                ws.cell(row=ws.max_row, column=col).number_format = TEXT_FORMAT
    _notes(wb, roster, request.user, "教育部门 → 人社部门：毕业学年学生名册及获证情况")
    return xlsx_response(wb, f"名册获证情况-{roster.school_year}-{timezone.localdate():%Y%m%d}.xlsx")


HR_COLUMNS = (
    ("姓名", 10),
    ("证件号码", 22),
    ("学校", 28),
    ("专业", 20),
    ("专业代码", 10),
    ("预计毕业时间", 12),
    ("报名批次数", 9),
    ("证书数", 7),
    ("证书编号", 50),
    ("证书未报送", 10),
    ("名册中无此人", 12),
    ("证件号码不一致", 12),
    ("姓名不一致", 10),
    ("学校不一致", 10),
    ("专业不一致", 10),
    ("名册姓名", 10),
    ("名册学校", 28),
    ("名册专业", 20),
)


@roles_required(*selectors.READER_ROLES)
def roster_export_hr(request: HttpRequest, pk: int) -> HttpResponse:
    """HR → education: the graduating candidates and their certificates, with the mismatch flags."""
    roster = selectors.roster_detail(user=request.user, pk=pk)
    wb = Workbook()
    ws = export_sheet(wb, "考生与证书核对", HR_COLUMNS, first=True, freeze=True)
    for chunk in _chunks(selectors.students(roster, user=request.user)):
        certificates = _certificates_of([s.id_number for s in chunk])
        for s in chunk:
            flags = selectors.student_flags(s)
            held = certificates.get(s.id_number, [])
            ws.append(
                [
                    s.name,
                    s.id_number,
                    s.school.organisation.name,
                    s.major.name,
                    s.major.code,
                    s.expected_graduation.isoformat(),
                    s.candidacy_count,
                    len(held),
                    "、".join(c.number for c in held),
                    _yes(flags["unreported"]),
                    _yes(flags["missing"]),
                    _yes(flags["id_number"]),
                    _yes(flags["name"]),
                    _yes(flags["school"]),
                    _yes(flags["major"]),
                    s.roster_name or "",
                    s.roster_school or "",
                    s.roster_major or "",
                ]
            )
            for col in (2, 5, 9):
                ws.cell(row=ws.max_row, column=col).number_format = TEXT_FORMAT
    _notes(wb, roster, request.user, "人社部门 → 教育部门：毕业学年考生及证书核对（含不一致标记）")
    return xlsx_response(wb, f"考生证书核对-{roster.school_year}-{timezone.localdate():%Y%m%d}.xlsx")


def ready() -> None:
    """Called once from OversightConfig.ready(): the job kind and the menu entry."""
    from portal.navigation import register_menu

    service.register_job_kinds()
    register_menu(gettext_lazy("毕业生名册核对"), "oversight:roster_list", selectors.READER_ROLES)


urlpatterns = [
    path("roster/", roster_list, name="roster_list"),
    path("roster/import/", roster_import, name="roster_import"),
    path("roster/template.xlsx", roster_template, name="roster_template"),
    path("roster/<int:pk>/", roster_detail, name="roster_detail"),
    path("roster/<int:pk>/export-education.xlsx", roster_export_edu, name="roster_export_edu"),
    path("roster/<int:pk>/export-hr.xlsx", roster_export_hr, name="roster_export_hr"),
]
