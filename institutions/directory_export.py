"""The directory as an Excel workbook, for publishing (notice annex §3.5 公布目录).

The notice publishes the directory on the municipal HR bureau's site (rsj.sh.gov.cn) and the
national skills-evaluation site (技能人才评价工作网, www.osta.org.cn). Both take a flat table: one
row per institution occupation, in a fixed layout (``COLUMNS``, documented in
``docs/directory-export.md`` and on the layout page, pinned by a test). The layout is the same
whatever the reader's language: headers, statuses and level names are written in Chinese.

Codes, the credit code and telephone numbers are text cells in text-formatted columns, so
Excel keeps leading zeros and every digit; dates are date cells shown ``yyyy-mm-dd``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from institutions.models import EvaluationBasis, InstitutionOccupation, InstitutionStatus
from portal.excel import TEXT_FORMAT
from portal.i18n import shown

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE = "评价机构目录"
NOTES_TITLE = "导出说明"
DATE_FORMAT = "yyyy-mm-dd"
LAYOUT_VERSION = "2026-1"  # bump with any change of COLUMNS, and say what changed in docs/directory-export.md


@dataclass(frozen=True)
class ExportColumn:
    header: str  # printed as is, in Chinese: the publishing sites' column names
    value: Callable[[InstitutionOccupation], Any]
    note: Any  # what the column holds (shown on the layout page in the reader's language)
    text: bool = False  # a text-formatted column (codes, numbers that are identifiers)
    date: bool = False
    width: int = 14


def _status(row: InstitutionOccupation, today: dt.date) -> tuple[str, str]:
    """(status, public reason) as the public directory shows them (``directory_views.mark_statuses``)."""
    from institutions.directory_views import shown_status

    inst = row.institution
    inst_status = shown_status(inst.status, inst.valid_until, today)
    if inst_status != InstitutionStatus.ACTIVE:
        reason = _("有效期届满") if inst.status == InstitutionStatus.ACTIVE else shown(inst.status_reason)
        return str(inst_status.label), reason
    own = shown_status(row.status, row.valid_until, today)
    if own == InstitutionStatus.ACTIVE:
        return str(own.label), ""
    reason = _("有效期届满") if row.status == InstitutionStatus.ACTIVE else shown(row.status_reason)
    return str(own.label), reason


def _basis(row: InstitutionOccupation) -> str:
    if row.basis == EvaluationBasis.SPECIFICATION:
        ref = row.specification_ref.strip()
        return _("评价规范（备案文号：%(ref)s）") % {"ref": ref} if ref else _("评价规范")
    return row.occupation.national_standard or _("国家职业技能标准")


def _occupation_name(row: InstitutionOccupation) -> str:
    occupation = row.occupation
    return f"{occupation.name}（{occupation.work_type}）" if occupation.work_type else occupation.name


COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn(
        "机构名称", lambda r: r.institution.school.name, gettext_lazy("学校全称，即备案的评价机构名称"), width=30
    ),
    ExportColumn(
        "机构代码",
        lambda r: r.institution.code,
        gettext_lazy("13位：类别字母、部级机构代码4位、省份代码31、机构（站点）序号6位；证书编号以此开头"),
        text=True,
        width=16,
    ),
    ExportColumn(
        "统一社会信用代码",
        lambda r: r.institution.school.uscc,
        gettext_lazy("学校的18位统一社会信用代码"),
        text=True,
        width=22,
    ),
    ExportColumn("所在区", lambda r: str(r.institution.school.organisation.district or ""), gettext_lazy("学校所在区")),
    ExportColumn("地址", lambda r: r.institution.school.address, gettext_lazy("学校地址"), width=36),
    ExportColumn("联系人", lambda r: r.institution.school.contact_name, gettext_lazy("学校评价工作联系人")),
    ExportColumn(
        "联系电话",
        lambda r: r.institution.school.contact_phone,
        gettext_lazy("联系人电话，文本格式"),
        text=True,
        width=16,
    ),
    ExportColumn(
        "职业编码",
        lambda r: r.occupation.code,
        gettext_lazy("《中华人民共和国职业分类大典（2022年版）》职业编码，如 6-18-02-04"),
        text=True,
    ),
    ExportColumn("职业（工种）", _occupation_name, gettext_lazy("职业名称，有工种的括注工种"), width=24),
    ExportColumn(
        "等级范围",
        lambda r: r.level_range,
        gettext_lazy("备案的最低至最高等级，如“五级/初级工 — 三级/高级工”"),
        width=28,
    ),
    ExportColumn(
        "评价依据（标准或规范及备案文号）",
        _basis,
        gettext_lazy("国家职业技能标准名称；或“评价规范（备案文号：…）”"),
        width=44,
    ),
    ExportColumn(
        "状态", None, gettext_lazy("有效、暂停、已移出目录或已过期；机构不在有效状态时为机构的状态"), width=10
    ),
    ExportColumn("有效期起", lambda r: r.confirmed_on, gettext_lazy("该职业（工种）备案确认日期"), date=True, width=12),
    ExportColumn(
        "有效期止",
        lambda r: r.valid_until,
        gettext_lazy("该职业（工种）有效期截止日，不晚于机构有效期"),
        date=True,
        width=12,
    ),
    ExportColumn("状态说明", None, gettext_lazy("暂停、移出或过期的公开原因；有效时为空"), width=36),
)
HEADERS = tuple(c.header for c in COLUMNS)
_STATUS, _REASON = HEADERS.index("状态"), HEADERS.index("状态说明")


def row_values(row: InstitutionOccupation, today: dt.date) -> list[Any]:
    status, reason = _status(row, today)
    values = [c.value(row) if c.value else None for c in COLUMNS]
    values[_STATUS], values[_REASON] = status, reason
    return values


def build_workbook(rows: Iterable[InstitutionOccupation], *, filters: dict | None = None) -> bytes:
    """The workbook of ``rows`` (``selectors.directory_export_rows``): always in Chinese."""
    today = timezone.localdate()
    with translation.override("zh-hans"):
        wb = Workbook()
        ws = wb.active
        ws.title = SHEET_TITLE
        header_fill = PatternFill("solid", fgColor="DDEBF7")
        for idx, column in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=1, column=idx, value=column.header)
            cell.font = Font(bold=True)
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            letter = get_column_letter(idx)
            ws.column_dimensions[letter].width = column.width
            if column.text:
                ws.column_dimensions[letter].number_format = TEXT_FORMAT
        count = 0
        for count, row in enumerate(rows, start=1):
            for idx, (column, value) in enumerate(zip(COLUMNS, row_values(row, today), strict=True), start=1):
                cell = ws.cell(row=count + 1, column=idx, value=value if value != "" else None)
                if column.text:
                    cell.number_format = TEXT_FORMAT
                elif column.date:
                    cell.number_format = DATE_FORMAT
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
        _notes(wb.create_sheet(NOTES_TITLE), count=count, filters=filters or {}, today=today)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _notes(ws, *, count: int, filters: dict, today: dt.date) -> None:
    terms = []
    if filters.get("q"):
        terms.append(f"机构名称含“{filters['q']}”")
    if filters.get("district_id"):
        from portal.models import District

        terms.append(f"所在区：{District.objects.filter(pk=filters['district_id']).first() or ''}")
    if filters.get("occupation"):
        terms.append(f"职业（工种）：{filters['occupation']}（仅列出匹配的职业）")
    if filters.get("level"):
        from schools.models import Level

        terms.append(f"等级：{Level(filters['level']).label}（仅列出等级范围包含该等级的职业）")
    if filters.get("status"):
        terms.append(f"状态：{InstitutionStatus(filters['status']).label}")
    ws.append(["上海市职业学校职业技能等级评价机构目录"])
    ws.append(["导出日期", today.isoformat()])
    ws.append(["查询条件", "；".join(terms) or "全部"])
    ws.append(["行数", count])
    ws.append(
        [
            "版式",
            f"每行一个评价机构的一个职业（工种），共{len(COLUMNS)}列；"
            f"版式 {LAYOUT_VERSION}，见 docs/directory-export.md",
        ]
    )
    ws.append(["依据", "沪人社职〔2022〕102号 附件第三条第（五）项 公布目录"])
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 80


def workbook_response(rows: Iterable[InstitutionOccupation], *, filters: dict | None = None) -> HttpResponse:
    data = build_workbook(rows, filters=filters)
    response = HttpResponse(data, content_type=XLSX)
    filename = f"{SHEET_TITLE}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
