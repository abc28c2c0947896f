"""The batch list as an Excel workbook (issue 8 item 11): the same scope and filters as the page.

Written in Chinese whatever the reader's language, like the directory export; the rows come from
``selectors.with_list_columns`` so the workbook costs a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO

from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from assessments.models import EvaluationPlan
from portal.excel import TEXT_FORMAT

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE = "评价计划"
NOTES_TITLE = "导出说明"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

# (header, width, kind): kind "text" keeps codes as text, "date"/"datetime" as date cells.
COLUMNS = (
    ("编号", 8, ""),
    ("评价机构", 30, ""),
    ("机构代码", 14, "text"),
    ("所在区", 10, ""),
    ("职业（工种）", 28, ""),
    ("等级", 10, ""),
    ("考核站点", 20, ""),
    ("开始时间", 17, "datetime"),
    ("结束时间", 17, "datetime"),
    ("计划状态", 22, ""),
    ("考生人数", 10, ""),
    ("结果报送截止日", 16, "date"),
    ("结果状态", 14, ""),
    ("逾期日期", 12, "date"),
    ("逾期报送", 10, ""),
)


def _naive(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def row_values(plan: EvaluationPlan) -> list:
    results = getattr(plan, "results", None)
    due = plan.results_due_on
    if due is None and plan.due_unknown_year:
        due = f"无法计算：{plan.due_unknown_year}年工作日历尚未发布"
    school = plan.institution.school
    return [
        plan.pk,
        plan.institution.name,
        plan.institution.code or "",
        school.organisation.district.name if school.organisation.district_id else "",
        str(plan.occupation.occupation),
        plan.get_level_display(),
        plan.site.name,
        _naive(plan.starts_at),
        _naive(plan.ends_at),
        plan.get_status_display(),
        plan.candidate_count,
        due,
        results.get_status_display() if results else "",
        results.overdue_since if results else None,
        ("是" if results.late else "否") if results else "",
    ]


def build_workbook(plans: Iterable[EvaluationPlan], *, terms: list[tuple[str, str]] = ()) -> bytes:
    with translation.override("zh-hans"):
        wb = Workbook()
        ws = wb.active
        ws.title = SHEET_TITLE
        fill = PatternFill("solid", fgColor="DDEBF7")
        for idx, (header, width, kind) in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=1, column=idx, value=header)
            cell.font = Font(bold=True)
            cell.fill = fill
            letter = get_column_letter(idx)
            ws.column_dimensions[letter].width = width
            if kind == "text":
                ws.column_dimensions[letter].number_format = TEXT_FORMAT
        count = 0
        for count, plan in enumerate(plans, start=1):
            for idx, ((_h, _w, kind), value) in enumerate(zip(COLUMNS, row_values(plan), strict=True), start=1):
                cell = ws.cell(row=count + 1, column=idx, value=value if value != "" else None)
                if kind == "text":
                    cell.number_format = TEXT_FORMAT
                elif kind == "date" and not isinstance(value, str):
                    cell.number_format = DATE_FORMAT
                elif kind == "datetime":
                    cell.number_format = DATETIME_FORMAT
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
        notes = wb.create_sheet(NOTES_TITLE)
        notes.append(["评价计划列表"])
        notes.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
        notes.append(["计划数", count])
        notes.append(
            ["筛选条件", "；".join(f"{label}：{value}" for label, value in terms) or "无（本人可查看的全部计划）"]
        )
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
