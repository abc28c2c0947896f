"""A decade of certificates for ``seed_scale`` (issues 9 and 10): one per passed candidate of every
accepted past batch (about 1,000,000 at full scale), numbered per the coding rule.

Numbers: the institution's code, the two-digit year of issue, the level digit and a serial that is
gapless per institution and year of issue, in the order the batches were held; each shared counter
(``certificates.services.numbering.counter_key``) is set to the last serial given, so the issuing
service continues the sequence (tested in tests/perf/test_seed_scale_certificates.py). About one in
four hundred is revoked (when and why recorded). Batches are reported to the centre and received;
the centre's national exports cover every year of issue but the latest, of which one batch in ten
is still unreported. No PDFs or photos (rendered on demand), no history rows.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.utils import timezone

from assessments.scale import copy_rows, next_id
from certificates.models import Certificate, CertificateReport, CertificateStatus, NationalExport, ReportStatus
from certificates.services.numbering import counter_key
from portal.models import Counter, Role
from portal.scale import ScaleContext

REVOKED_EVERY = 400
REVOKE_REASONS = (
    "考生提供的身份信息不实，经核查撤销证书。",
    "评价过程存在替考行为，依规撤销证书。",
    "学校申请撤销：证书信息登记错误，已重新评价。",
)


def _aware(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def build(ctx: ScaleContext) -> None:
    passed = ctx.built.get("passed")
    if not passed:
        return
    plan_info = ctx.built["plan_info"]
    staff_by_org = ctx.built.get("school_staff", {})
    centre = ctx.actor(Role.CENTRE_REVIEWER)
    latest_issue_year = max(plan_info[n]["year"] for _c, n, *_ in passed) + 1

    # Batches in the order they were held; candidates in id order within a batch.
    passed.sort(key=lambda row: (plan_info[row[1]]["day"], row[1], row[0]))

    # --- Reports to the centre and national exports ---------------------------------------
    report_id = next_id(CertificateReport)
    reports, report_of = [], {}
    for n in sorted({row[1] for row in passed}):
        info = plan_info[n]
        issued_on = info["day"] + dt.timedelta(days=20)
        if issued_on.year == latest_issue_year and n % 10 == 0:
            continue  # not yet reported
        school_org = info["institution"].school.organisation_id
        by = staff_by_org.get(school_org) or info["creator"]
        reports.append(
            (
                report_id,
                n,
                ReportStatus.RECEIVED,
                by.pk,
                _aware(issued_on + dt.timedelta(days=3), 10),
                centre.pk,
                _aware(issued_on + dt.timedelta(days=5), 15),
            )
        )
        report_of[n] = report_id
        report_id += 1
    copy_rows(
        CertificateReport,
        ("id", "plan_id", "status", "submitted_by_id", "submitted_at", "received_by_id", "received_at"),
        reports,
    )
    ctx.note("certificate reports", len(reports))

    export_id = next_id(NationalExport)
    exports, export_of = [], {}
    for year in sorted({plan_info[n]["year"] + 1 for _c, n, *_ in passed}):
        if year == latest_issue_year:
            continue
        exports.append(
            (
                export_id,
                dt.date(year, 1, 1),
                dt.date(year, 12, 31),
                f"certificates/national/{year}/scale-{ctx.batch}-{year}.xlsx",
                0,
                centre.pk,
                _aware(dt.date(year, 12, 31), 16),
            )
        )
        export_of[year] = export_id
        export_id += 1

    # --- The certificates ---------------------------------------------------------------------
    serials: dict[str, int] = {}
    for key, value in Counter.objects.filter(key__startswith="certificate:").values_list("key", "value"):
        serials[key] = value
    cert_id = next_id(Certificate)
    first_id = cert_id
    per_export: dict[int, int] = {}
    sample: list[tuple[int, int, int, str]] = []  # (certificate, candidate, plan, status) for oversight.scale
    revoked = 0

    def rows():
        nonlocal cert_id, revoked
        for candidate_pk, n, name, id_number, _student in passed:
            info = plan_info[n]
            inst = info["institution"]
            occupation = info["occupation"].occupation
            issued_on = info["day"] + dt.timedelta(days=20)
            key = counter_key(inst, issued_on.year)
            serial = serials.get(key, 0) + 1
            serials[key] = serial
            number = f"{inst.code}{issued_on.year % 100:02d}{int(info['level'])}{serial:06d}"
            status, changed, reason = CertificateStatus.VALID, None, ""
            if cert_id % REVOKED_EVERY == 7:
                status = CertificateStatus.REVOKED
                changed = _aware(issued_on + dt.timedelta(days=90 + cert_id % 200), 11)
                reason = REVOKE_REASONS[cert_id % len(REVOKE_REASONS)]
                revoked += 1
            export = export_of.get(issued_on.year)
            if export is not None and n in report_of:
                per_export[export] = per_export.get(export, 0) + 1
            else:
                export = None
            if cert_id % 1000 == 0 or status == CertificateStatus.REVOKED:
                sample.append((cert_id, candidate_pk, n, status))
            created = _aware(issued_on, 14)
            yield (
                cert_id,
                number,
                inst.pk,
                candidate_pk,
                n,
                name,
                "resident_id",
                id_number,
                occupation.pk,
                occupation.name,
                occupation.work_type,
                info["level"],
                inst.school.organisation.name,
                issued_on,
                secrets.token_urlsafe(32),
                status,
                changed,
                reason,
                None,
                "",
                "",
                "",
                None,
                info["creator"].pk,
                created,
                report_of.get(n),
                export,
            )
            cert_id += 1

    copy_rows(
        NationalExport,
        ("id", "period_from", "period_to", "file", "rows", "created_by_id", "created_at"),
        exports,
    )
    count = copy_rows(
        Certificate,
        (
            "id",
            "number",
            "institution_id",
            "candidate_id",
            "plan_id",
            "name",
            "id_type",
            "id_number",
            "occupation_id",
            "occupation_name",
            "work_type",
            "level",
            "institution_name",
            "issued_on",
            "token",
            "status",
            "status_changed_at",
            "status_reason",
            "supersedes_id",
            "photo",
            "pdf",
            "pdf_sha256",
            "pdf_rendered_at",
            "issued_by_id",
            "created_at",
            "report_id",
            "national_export_id",
        ),
        rows(),
    )
    for export, n in per_export.items():
        NationalExport.objects.filter(pk=export).update(rows=n)
    ctx.note("certificates", count)
    ctx.note("revoked certificates", revoked)
    ctx.note("national exports", len(exports))

    # The shared counters continue where the seed stopped (never below a value already issued).
    now = timezone.now()
    existing = dict(Counter.objects.filter(key__in=list(serials)).values_list("key", "value"))
    Counter.objects.bulk_create(
        [Counter(key=k, value=max(v, existing.get(k, 0)), updated_at=now) for k, v in serials.items()],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["value", "updated_at"],
        batch_size=2000,
    )
    ctx.note("certificate counters", len(serials))
    ctx.built["certificate_sample"] = sample
    ctx.built["certificate_ids"] = (first_id, cert_id - 1)
