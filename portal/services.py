"""Writes of the portal app: notifications, background jobs, calendar and reference data.

Shared helpers for every app's services live here too: ``record`` stamps the acting user
and reason on the history row a save writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import CalendarDay, CalendarYear, Job, JobStatus, Notification, Occupation, Role, User

logger = logging.getLogger(__name__)


def record(obj: Model, *, actor: User | None, reason: str = "") -> Model:
    """Mark the next history row of ``obj`` with who acted and why (django-simple-history)."""
    obj._history_user = actor
    obj._change_reason = reason
    return obj


def upsert_rows(
    *, queryset, key: tuple[str, ...], rows: list[dict], actor: User | None, reason: str, new_fields: dict | None = None
) -> dict:
    """Create or update one object per row, matched on ``key``, in one transaction, with history.

    ``queryset`` fixes the scope (e.g. one school's majors); ``new_fields`` completes new objects
    with what the rows do not carry (e.g. the school).
    """
    created = updated = 0
    with transaction.atomic():
        existing = {tuple(getattr(o, f) for f in key): o for o in queryset.select_for_update()}
        for row in rows:
            obj = existing.get(tuple(row[f] for f in key))
            if obj is None:
                obj = queryset.model(**(new_fields or {}), **row)
                created += 1
            else:
                updated += 1
            for field, value in row.items():
                setattr(obj, field, value)
            record(obj, actor=actor, reason=reason)
            obj.save()
    return {"created": created, "updated": updated}


# --- Notifications ---------------------------------------------------------------------


def notify(*, recipients: Iterable[User], title: str, body: str = "", link: str = "") -> list[Notification]:
    """Create in-portal notifications; queue e-mail for recipients with an address once committed.

    Called inside a service's transaction, the rows roll back with it and no mail leaves.
    """
    unique = {u.pk: u for u in recipients if u.is_active}
    rows = Notification.objects.bulk_create(
        [Notification(recipient=u, title=title, body=body, link=link) for u in unique.values()]
    )
    email_ids = [n.pk for n in rows if n.recipient.email and n.pk]
    if email_ids:
        from portal.tasks import send_notification_emails

        transaction.on_commit(lambda: send_notification_emails.delay(email_ids))
    return rows


def notification_mark_read(*, user: User, notification: Notification | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification is not None:
        qs = qs.filter(pk=notification.pk)
    return qs.update(read_at=timezone.now())


# --- Background jobs -------------------------------------------------------------------


class JobFailed(Exception):
    """Raised by a job handler to fail with messages for the user (nothing was written)."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors[:3]))


@dataclass
class JobKind:
    label: str
    handler: Callable[[Job, Callable[[int, int, str], None]], dict]
    may_start: Callable[[User, dict], bool]
    result_link: Callable[[Job], str] = field(default=lambda job: "")


JOB_KINDS: dict[str, JobKind] = {}


def register_job_kind(name: str, kind: JobKind) -> None:
    JOB_KINDS[name] = kind


def job_start(*, kind: str, actor: User, params: dict | None = None, upload=None) -> Job:
    params = params or {}
    job_kind = JOB_KINDS[kind]
    if not job_kind.may_start(actor, params):
        raise PermissionDenied
    job = Job(kind=kind, created_by=actor, organisation=actor.organisation, params=params)
    if upload is not None:
        job.input_name = upload.name[:200]
        job.input_file.save(upload.name, upload, save=False)
    job.save()
    from portal.tasks import run_job

    transaction.on_commit(lambda: run_job.delay(job.pk))
    return job


def _set_progress(job_id: int) -> Callable[[int, int, str], None]:
    def progress(done: int, total: int, stage: str = "") -> None:
        Job.objects.filter(pk=job_id).update(progress=done, total=total, stage=stage[:300])

    return progress


def job_run(*, job_id: int) -> None:
    """Run a queued job once; a job already started by another worker is left alone."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return
    job = Job.objects.select_related("created_by").get(pk=job_id)
    handler = JOB_KINDS[job.kind].handler
    try:
        result = handler(job, _set_progress(job.pk))
    except JobFailed as exc:
        _finish(job, JobStatus.FAILED, errors=exc.errors)
    except Exception:  # noqa: BLE001 - the user sees a clear failure, the log keeps the trace
        logger.exception("job %s failed", job.pk)
        _finish(job, JobStatus.FAILED, errors=[_("任务执行出错，请稍后重试或联系系统管理员。")])
    else:
        _finish(job, JobStatus.SUCCEEDED, result=result)


def _finish(job: Job, status: str, *, result: dict | None = None, errors: list[str] | None = None) -> None:
    job.refresh_from_db(fields=["progress", "total"])  # the handler reported progress by update()
    job.status = status
    job.result = result or {}
    job.errors = errors or []
    job.finished_at = timezone.now()
    if status == JobStatus.SUCCEEDED:
        job.progress = job.total = max(job.total, job.progress)
        job.stage = _("完成")
    job.save(update_fields=["status", "result", "errors", "finished_at", "progress", "total", "stage"])
    label = JOB_KINDS[job.kind].label
    title = (
        _("%(label)s已完成") % {"label": label}
        if status == JobStatus.SUCCEEDED
        else _("%(label)s失败") % {"label": label}
    )
    from django.urls import reverse

    with transaction.atomic():
        notify(recipients=[job.created_by], title=title, link=reverse("job_detail", args=[job.pk]))


# --- Working-day calendar --------------------------------------------------------------


def calendar_seed_from_package(*, actor: User | None = None, years: Iterable[int] | None = None) -> int:
    """Load chinesecalendar's holidays and make-up workdays; keeps days an administrator edited."""
    from portal.working_days import chinesecalendar_exceptions, chinesecalendar_years

    created = 0
    with transaction.atomic():
        for year in years or chinesecalendar_years():
            CalendarYear.objects.get_or_create(year=year, defaults={"source": "chinesecalendar"})
            existing = set(CalendarDay.objects.filter(date__year=year).values_list("date", flat=True))
            new = [
                CalendarDay(date=d, is_workday=w, name=n)
                for d, w, n in chinesecalendar_exceptions(year)
                if d not in existing
            ]
            CalendarDay.objects.bulk_create(new)
            created += len(new)
    return created


def calendar_year_publish(*, actor: User, year: int, holidays: list, makeup_workdays: list, source: str) -> None:
    """An administrator adds a year the package does not know: its holidays and make-up days."""
    if not (actor.is_superuser or actor.has_role(Role.SYSTEM_ADMIN)):
        raise PermissionDenied
    with transaction.atomic():
        cal_year, _created = CalendarYear.objects.get_or_create(year=year, defaults={"source": source})
        record(cal_year, actor=actor, reason=_("发布年度工作日历"))
        cal_year.source = source
        cal_year.save()
        for day, is_workday, name in [(d, False, n) for d, n in holidays] + [(d, True, n) for d, n in makeup_workdays]:
            row, _c = CalendarDay.objects.get_or_create(date=day, defaults={"is_workday": is_workday, "name": name})
            row.is_workday, row.name = is_workday, name
            record(row, actor=actor, reason=_("发布年度工作日历"))
            row.save()


# --- Occupation catalogue --------------------------------------------------------------


def occupation_import(*, actor: User, rows: list[dict]) -> dict:
    """Create or update catalogue entries keyed by (code, work type), all or nothing."""
    if not (actor.is_superuser or actor.has_role(Role.SYSTEM_ADMIN)):
        raise PermissionDenied
    return upsert_rows(
        queryset=Occupation.objects.all(),
        key=("code", "work_type"),
        rows=rows,
        actor=actor,
        reason=_("Excel导入职业（工种）目录"),
    )


def calendar_coverage_check(*, today) -> int:
    """From October on, remind system administrators once to publish next year's calendar.

    Deadlines counted in working days stop at the end of the known calendar; this keeps them
    from ever reaching it. Idempotent: a second run notifies nobody twice.
    """
    from django.urls import reverse

    from portal.access import users_with_roles

    missing = [y for y in (today.year, today.year + 1) if not CalendarYear.objects.filter(year=y).exists()]
    if today.month < 10:
        missing = [y for y in missing if y == today.year]
    sent = 0
    for year in missing:
        title = _("请维护%(year)s年工作日历") % {"year": year}
        admins = users_with_roles([Role.SYSTEM_ADMIN]).exclude(notifications__title=title)
        with transaction.atomic():
            sent += len(
                notify(
                    recipients=list(admins),
                    title=title,
                    body=_("工作日历尚未包含%(year)s年的法定节假日和调休安排，涉及该年度的期限将无法计算。")
                    % {"year": year},
                    link=reverse("calendar") + f"?year={year}",
                )
            )
    return sent
