"""Reporting certificates (issue 9 item 9; annex §4.4: 及时将证书信息报送市职鉴中心).

1. The school reports a batch's certificates to the centre (``report_submit``): one
   ``CertificateReport`` per submission, holding every certificate of the batch not yet reported
   (a correction issued later goes in a later report). The centre marks it received
   (``report_receive``).
2. The centre exports reported certificate data for upload to the national lookup system
   (``national_export``), by issue date range, in the layout of ``NATIONAL_COLUMNS``. Each exported
   certificate's ``national_export`` is set to the export; a period may be exported again, with the
   rows already exported included when asked (they then point to the newest export).
3. Certificates issued more than ``PORTAL_CERTIFICATE_REPORT_DAYS`` days ago (default 30) and not yet
   reported are listed for the centre (``unreported``).

National export layout (one row per certificate, sheet "证书信息", a header row, then data; every
code and number stored as text; dates as yyyy-mm-dd text):

    A 证书编号       22-character national number
    B 姓名           as printed on the certificate
    C 证件类型       e.g. 居民身份证
    D 证件号码       in full (the national system matches on it)
    E 职业名称       occupation as printed
    F 职业编码       national occupation code, e.g. 6-31-01-03
    G 工种/职业方向  or "--" when none
    H 等级           e.g. 三级/高级工
    I 评价机构名称   as filed
    J 评价机构代码   13-character institution code
    K 发证日期       yyyy-mm-dd
    L 证书状态       有效 / 已撤销 / 已更正（由新证书替代）
    M 状态变更日期   yyyy-mm-dd, blank while valid
    N 替代证书编号   for a superseded certificate, the number of its successor; for a
                     correction, column O names the certificate it replaces
    O 原证书编号     the certificate this one corrects, else blank

A second sheet "导出说明" repeats this layout with the period and when and by whom it was made.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from assessments.models import EvaluationPlan
from certificates.models import Certificate, CertificateReport, NationalExport, ReportStatus
from institutions.services.workflow import is_school_staff_of
from portal.access import users_with_roles
from portal.excel import TEXT_FORMAT
from portal.i18n import stored
from portal.models import Role, User
from portal.services import notify, record

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

NATIONAL_COLUMNS = (
    ("证书编号", 26, "22位全国统一证书编号"),
    ("姓名", 12, "与证书一致"),
    ("证件类型", 14, "如：居民身份证"),
    ("证件号码", 22, "完整号码（全国系统据此匹配）"),
    ("职业名称", 20, "与证书一致"),
    ("职业编码", 14, "国家职业分类代码，如 6-31-01-03"),
    ("工种/职业方向", 18, "无则为 --"),
    ("等级", 12, "如：三级/高级工"),
    ("评价机构名称", 30, "备案名称"),
    ("评价机构代码", 16, "13位机构代码"),
    ("发证日期", 12, "yyyy-mm-dd"),
    ("证书状态", 18, "有效 / 已撤销 / 已更正（由新证书替代）"),
    ("状态变更日期", 14, "yyyy-mm-dd，有效证书为空"),
    ("替代证书编号", 26, "已更正证书：替代它的新证书编号"),
    ("原证书编号", 26, "更正换发的证书：被替代的原证书编号"),
)


def report_days() -> int:
    return int(getattr(settings, "PORTAL_CERTIFICATE_REPORT_DAYS", 30))


def _is_centre(user) -> bool:
    return user is not None and user.is_authenticated and (user.is_superuser or user.has_role(Role.CENTRE_REVIEWER))


# --- School → centre --------------------------------------------------------------------------


def unreported_of_plan(plan: EvaluationPlan) -> QuerySet[Certificate]:
    return Certificate.objects.filter(plan=plan, report__isnull=True)


def report_submit(*, plan: EvaluationPlan, actor: User) -> CertificateReport:
    """Report every not yet reported certificate of the batch to the centre."""
    if not is_school_staff_of(actor, plan.institution.school):
        raise PermissionDenied
    with transaction.atomic():
        pending = list(unreported_of_plan(plan).select_for_update().values_list("pk", flat=True))
        if not pending:
            raise ValidationError(_("批次#%(pk)s没有尚未报送的证书。") % {"pk": plan.pk})
        report = CertificateReport(plan=plan, submitted_by=actor)
        record(report, actor=actor, reason=stored(gettext_lazy("报送证书信息（%(n)s本）"), n=len(pending)))
        report.save()
        Certificate.objects.filter(pk__in=pending).update(report=report)
        notify(
            recipients=list(users_with_roles([Role.CENTRE_REVIEWER])),
            title=stored(
                gettext_lazy("证书信息报送待接收：%(school)s（%(n)s本）"), school=plan.institution.name, n=len(pending)
            ),
            link=reverse("certificates:report_list"),
        )
    return report


def report_receive(*, report: CertificateReport, actor: User) -> CertificateReport:
    if not _is_centre(actor):
        raise PermissionDenied
    from portal.workflow import TransitionError

    with transaction.atomic():
        locked = CertificateReport.objects.select_for_update().get(pk=report.pk)
        if locked.status != ReportStatus.SUBMITTED:
            raise TransitionError(_("该报送已被接收。"))
        locked.status = ReportStatus.RECEIVED
        locked.received_by = actor
        locked.received_at = timezone.now()
        record(locked, actor=actor, reason=stored(gettext_lazy("市职鉴中心接收证书信息报送")))
        locked.save(update_fields=["status", "received_by", "received_at"])
    return locked


def unreported(*, days: int | None = None, today: dt.date | None = None) -> QuerySet[Certificate]:
    """Certificates issued more than ``days`` days ago that their school has not reported."""
    days = report_days() if days is None else days
    today = today or timezone.localdate()
    return Certificate.objects.filter(report__isnull=True, issued_on__lt=today - dt.timedelta(days=days))


# --- Centre → national lookup system ----------------------------------------------------------


def national_row(c: Certificate) -> list[str]:
    successor = getattr(c, "superseded_by", None)
    return [
        c.number,
        c.name,
        c.get_id_type_display(),
        c.id_number,
        c.occupation_name,
        c.occupation.code,
        c.work_type or "--",
        c.get_level_display(),
        c.institution_name,
        c.institution.code or "",
        c.issued_on.isoformat(),
        c.get_status_display(),
        timezone.localdate(c.status_changed_at).isoformat() if c.status_changed_at else "",
        successor.number if successor is not None else "",
        c.supersedes.number if c.supersedes_id else "",
    ]


def national_queryset(period_from: dt.date, period_to: dt.date, *, include_exported: bool) -> QuerySet[Certificate]:
    qs = Certificate.objects.filter(
        issued_on__gte=period_from, issued_on__lte=period_to, report__isnull=False
    ).select_related("occupation", "institution", "supersedes", "superseded_by")
    if not include_exported:
        qs = qs.filter(national_export__isnull=True)
    return qs.order_by("issued_on", "number")


def national_workbook(rows, *, period_from: dt.date, period_to: dt.date, actor: User, count: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "证书信息"
    ws.append([h for h, _w, _n in NATIONAL_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, (_h, width, _n) in enumerate(NATIONAL_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for values in rows:
        ws.append(values)
        for cell in ws[ws.max_row]:
            cell.number_format = TEXT_FORMAT
    notes = wb.create_sheet("导出说明")
    notes.append(["用途", "上传全国职业技能等级证书查询系统"])
    notes.append(["发证日期范围", f"{period_from.isoformat()} 至 {period_to.isoformat()}"])
    notes.append(["条数", str(count)])
    notes.append(["导出时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    notes.append(["导出人", actor.get_full_name() or actor.get_username()])
    notes.append([])
    notes.append(["列", "字段", "说明"])
    for i, (header, _w, note) in enumerate(NATIONAL_COLUMNS, start=1):
        notes.append([get_column_letter(i), header, note])
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 30
    notes.column_dimensions["C"].width = 40
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def national_export(
    *, actor: User, period_from: dt.date, period_to: dt.date, include_exported: bool = False
) -> NationalExport:
    """Export the period's reported certificates and mark each exported row."""
    if not _is_centre(actor):
        raise PermissionDenied
    if period_to < period_from:
        raise ValidationError(_("发证日期范围的结束日期不能早于开始日期。"))
    with transaction.atomic():
        qs = national_queryset(period_from, period_to, include_exported=include_exported)
        certificates = list(qs.select_for_update(of=("self",)))
        if not certificates:
            raise ValidationError(
                _("%(a)s至%(b)s没有可导出的证书（已导出的证书请勾选“包括已导出的证书”）。")
                % {"a": period_from.isoformat(), "b": period_to.isoformat()}
            )
        with translation.override("zh-hans"):  # the national layout is in Chinese
            data = national_workbook(
                (national_row(c) for c in certificates),
                period_from=period_from,
                period_to=period_to,
                actor=actor,
                count=len(certificates),
            )
        export = NationalExport(period_from=period_from, period_to=period_to, rows=len(certificates), created_by=actor)
        export.file.save(
            f"national-{period_from:%Y%m%d}-{period_to:%Y%m%d}-{timezone.now():%Y%m%d%H%M%S}.xlsx",
            ContentFile(data),
            save=False,
        )
        export.save()
        Certificate.objects.filter(pk__in=[c.pk for c in certificates]).update(national_export=export)
    return export
