"""Writes of the portal app: notifications, background jobs, calendar and reference data.

Shared helpers for every app's services live here too: ``record`` stamps the acting user
and reason on the history row a save writes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import connection, connections, transaction
from django.db.models import F, Model, Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.i18n import shown, stored
from portal.models import (
    CalendarDay,
    CalendarYear,
    EmailStatus,
    Job,
    JobStatus,
    Notification,
    Occupation,
    Role,
    User,
)
from portal.models.jobs import job_heartbeat_seconds, job_stale_seconds
from portal.queue import enqueue, enqueue_on_commit

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
#
# A notification row is also the e-mail outbox: ``notify`` marks rows whose recipient has an
# address as pending, and ``notification_emails_send`` delivers them, kicked after commit and
# swept every minute by ``portal.tasks.send_pending_emails``. A broker outage delays e-mail,
# it never loses it.


def notify(*, recipients: Iterable[User], title: str, body: str = "", link: str = "") -> list[Notification]:
    """Create in-portal notifications; e-mail recipients with an address once committed.

    ``title`` and ``body`` should be ``portal.i18n.stored()`` text so that each reader (and each
    e-mail) gets them in their own language. Called inside a service's transaction, the rows
    roll back with it and no mail leaves.
    """
    unique = {u.pk: u for u in recipients if u.is_active}
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient=u,
                title=title,
                body=body,
                link=link,
                email_status=EmailStatus.PENDING if u.email else EmailStatus.NONE,
            )
            for u in unique.values()
        ]
    )
    email_ids = [n.pk for n in rows if n.email_status == EmailStatus.PENDING and n.pk]
    if email_ids:
        from portal.tasks import send_notification_emails

        enqueue_on_commit(send_notification_emails, email_ids)
    return rows


def notification_mark_read(*, user: User, notification: Notification | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification is not None:
        qs = qs.filter(pk=notification.pk)
    return qs.update(read_at=timezone.now())


def email_max_attempts() -> int:
    return int(getattr(settings, "PORTAL_EMAIL_MAX_ATTEMPTS", 8))


def email_retry_delay(attempts: int) -> timedelta:
    """Backoff after the ``attempts``-th failure: 1, 2, 4 … minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# A claim older than this whose worker never reported back: the mail may or may not have left.
EMAIL_CLAIM_TIMEOUT = timedelta(minutes=15)


def notification_emails_send(*, ids: Iterable[int] | None = None, now=None, limit: int = 200) -> int:
    """Send due pending e-mails (only ``ids`` if given); returns how many were sent.

    Safe to run any number of times at once: each row is claimed by a conditional update
    before its mail leaves, so no e-mail is sent twice. A failure is counted and retried with
    backoff; after ``PORTAL_EMAIL_MAX_ATTEMPTS`` the row is marked failed for administrators.
    """
    now = now or timezone.now()
    # A sender that died between claim and report: never re-sent (it may have left), shown as failed.
    Notification.objects.filter(email_status=EmailStatus.SENDING, email_next_at__lt=now - EMAIL_CLAIM_TIMEOUT).update(
        email_status=EmailStatus.FAILED, email_error=str(stored(gettext_lazy("发送过程中断，无法确认邮件是否已发出。")))
    )
    due = Notification.objects.filter(email_status=EmailStatus.PENDING).filter(
        Q(email_next_at__isnull=True) | Q(email_next_at__lte=now)
    )
    if ids is not None:
        due = due.filter(pk__in=list(ids))
    sent = 0
    for pk in list(due.order_by("pk").values_list("pk", flat=True)[:limit]):
        sent += _email_one(pk, now=now)
    return sent


def _email_one(pk: int, *, now) -> int:
    claimed = Notification.objects.filter(pk=pk, email_status=EmailStatus.PENDING).update(
        email_status=EmailStatus.SENDING, email_attempts=F("email_attempts") + 1, email_next_at=now
    )
    if not claimed:
        return 0  # another sender has it
    n = Notification.objects.select_related("recipient").get(pk=pk)
    claim = Notification.objects.filter(pk=pk, email_status=EmailStatus.SENDING)
    recipient = n.recipient
    if not recipient.email or not recipient.is_active:
        claim.update(email_status=EmailStatus.NONE)
        return 0
    try:
        with translation.override(recipient.language or settings.LANGUAGE_CODE):
            subject = " ".join(f"[{settings.PORTAL_NAME}] {shown(n.title)}".split())
            body = shown(n.body)
            if n.link:
                body += f"\n\n{getattr(settings, 'PORTAL_BASE_URL', '').rstrip('/')}{n.link}"
        send_mail(subject, body, None, [recipient.email])
    except Exception as exc:  # noqa: BLE001 - SMTP, DNS and header errors alike: counted and retried
        error = f"{type(exc).__name__}: {exc}"[:300]
        if n.email_attempts >= email_max_attempts():
            claim.update(email_status=EmailStatus.FAILED, email_error=error)
            logger.error("e-mail of notification %s failed for good (%s attempts): %s", pk, n.email_attempts, error)
        else:
            retry_at = now + email_retry_delay(n.email_attempts)
            claim.update(email_status=EmailStatus.PENDING, email_error=error, email_next_at=retry_at)
            logger.warning("e-mail of notification %s failed (attempt %s), retry: %s", pk, n.email_attempts, error)
        return 0
    claim.update(email_status=EmailStatus.SENT, emailed_at=timezone.now(), email_error="")
    return 1


# --- Background jobs -------------------------------------------------------------------
#
# A job row is the source of truth, the broker only a doorbell. ``job_start`` rings it after
# commit; ``job_run`` claims the row (pending -> running) so a duplicate delivery does nothing;
# the running worker beats a heartbeat; ``job_sweep`` (every minute) re-sends pending jobs the
# broker never got and retries, or fails with a clear message, jobs whose worker went silent.


class JobFailed(Exception):
    """Raised by a job handler to fail with messages for the user (nothing was written)."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors[:3]))


@dataclass
class JobKind:
    """A kind of job. ``handler(job, progress)`` must be all-or-nothing (write in one transaction):
    a job whose worker dies is run again from the start. It reports progress only through
    ``progress(done, total, stage)`` (a lazy translation for ``stage``), never by writing the job row."""

    label: str
    handler: Callable[[Job, Callable[[int, int, str], None]], dict]
    may_start: Callable[[User, dict], bool]
    result_link: Callable[[Job], str] = field(default=lambda job: "")


JOB_KINDS: dict[str, JobKind] = {}


def register_job_kind(name: str, kind: JobKind) -> None:
    JOB_KINDS[name] = kind


def job_max_attempts() -> int:
    return int(getattr(settings, "PORTAL_JOB_MAX_ATTEMPTS", 3))


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
    transaction.on_commit(lambda: _job_send(job.pk), robust=True)
    return job


def _job_send(job_id: int) -> bool:
    """Hand a pending job to the broker; remember when it got there (the sweep re-sends otherwise)."""
    from portal.tasks import run_job

    sent_at = timezone.now()
    if not enqueue(run_job, job_id):
        return False
    Job.objects.filter(pk=job_id, queued_at__isnull=True).update(queued_at=sent_at)
    return True


def _stage_text(stage) -> str:
    """A stage message as stored text when it is a lazy translation, cut to the column's size."""
    if isinstance(stage, Promise):
        text = stored(stage)
        return text if len(text) <= 300 else shown(text)[:300]
    return str(stage or "")[:300]


def _set_progress(job_id: int) -> Callable[[int, int, str], None]:
    def progress(done: int, total: int, stage="") -> None:
        Job.objects.filter(pk=job_id).update(
            progress=done, total=total, stage=_stage_text(stage), heartbeat_at=timezone.now()
        )

    return progress


class _Heartbeat:
    """Keeps a running job's row alive and its progress current, from a side thread.

    The handler's progress reports are handed to this thread, which writes them on its own
    connection (at most twice a second) and otherwise marks the job alive every
    ``PORTAL_JOB_HEARTBEAT_SECONDS``. So progress shows while the handler holds a long
    transaction, and the heartbeat goes on however long one step takes. Only where it helps: on
    a server database outside a transaction (a real worker); in-process runs inside a
    transaction (tests) or on SQLite write progress directly.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.pending: tuple | None = None
        self.report: Callable | None = None
        self.thread: threading.Thread | None = None

    def __enter__(self):
        if connection.vendor != "sqlite" and not connection.in_atomic_block:
            self.thread = threading.Thread(target=self._beat, name=f"job-{self.job_id}-heartbeat", daemon=True)
        return self

    def wrap(self, report: Callable[[int, int, str], None]) -> Callable[[int, int, str], None]:
        """The progress callback to give the handler."""
        self.report = report
        if self.thread is None:
            return report

        def progress(done: int, total: int, stage="") -> None:
            with self.lock:
                self.pending = (done, total, stage)
            self.wake.set()

        self.thread.start()
        return progress

    def __exit__(self, *exc_info):
        self.stop.set()
        self.wake.set()
        if self.thread is not None and self.thread.is_alive():
            self.thread.join(timeout=30)

    def _beat(self) -> None:
        try:
            while True:
                self.wake.wait(timeout=job_heartbeat_seconds())
                self.wake.clear()
                with self.lock:
                    pending, self.pending = self.pending, None
                if pending is not None:
                    self.report(*pending)  # also the heartbeat
                else:
                    Job.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(heartbeat_at=timezone.now())
                if self.stop.is_set():
                    return
                self.stop.wait(0.5)  # at most two progress writes a second
        except Exception:  # noqa: BLE001 - a missed heartbeat only makes the sweep look sooner
            logger.warning("heartbeat of job %s stopped", self.job_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connection


def job_run(*, job_id: int) -> None:
    """Run a queued job once; a job already claimed (by another worker or delivery) is left alone."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1, progress=0
    )
    if not claimed:
        return
    job = Job.objects.select_related("created_by").get(pk=job_id)
    job_kind = JOB_KINDS.get(job.kind)
    if job_kind is None:
        logger.error("job %s: kind %r is not registered in this worker", job.pk, job.kind)
        _finish(job, JobStatus.FAILED, errors=[stored(gettext_lazy("任务执行出错，请稍后重试或联系系统管理员。"))])
        return
    with _Heartbeat(job.pk) as heartbeat:
        try:
            outcome = (JobStatus.SUCCEEDED, job_kind.handler(job, heartbeat.wrap(_set_progress(job.pk))), None)
        except JobFailed as exc:
            outcome = (JobStatus.FAILED, None, [_stage_text(e) if isinstance(e, Promise) else e for e in exc.errors])
        except Exception:  # noqa: BLE001 - the user sees a clear failure, the log keeps the trace
            logger.exception("job %s failed", job.pk)
            outcome = (JobStatus.FAILED, None, [stored(gettext_lazy("任务执行出错，请稍后重试或联系系统管理员。"))])
    status, result, errors = outcome  # the heartbeat thread has written the last progress report
    _finish(job, status, result=result, errors=errors)


def _finish(job: Job, status: str, *, result: dict | None = None, errors: list[str] | None = None) -> bool:
    """Record the outcome of the attempt this worker claimed and tell its creator; False if the
    sweep took the job back meanwhile (this worker was taken for dead)."""
    current = Job.objects.filter(pk=job.pk).values("progress", "total").first() or {}
    values: dict = {
        "status": status,
        "result": result or {},
        "errors": errors or [],
        "finished_at": timezone.now(),
        "heartbeat_at": timezone.now(),
    }
    if status == JobStatus.SUCCEEDED:
        done = max(current.get("total", 0), current.get("progress", 0))
        values.update(progress=done, total=done, stage=stored(gettext_lazy("完成")))
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts).update(**values)
        if updated:
            _notify_job_outcome(job, status)
    return bool(updated)


def _notify_job_outcome(job: Job, status: str) -> None:
    from django.urls import reverse

    kind = JOB_KINDS.get(job.kind)
    label = kind.label if kind else job.kind
    title = (
        stored(gettext_lazy("%(label)s已完成"), label=label)
        if status == JobStatus.SUCCEEDED
        else stored(gettext_lazy("%(label)s失败"), label=label)
    )
    # The file is named, so someone who ran several imports knows which one this is.
    body = stored(gettext_lazy("文件：“%(file)s”"), file=job.input_name) if job.input_name else ""
    notify(recipients=[job.created_by], title=title, body=body, link=reverse("job_detail", args=[job.pk]))


def job_sweep(*, now=None) -> dict:
    """Re-send pending jobs the broker never got; retry or fail running jobs whose worker is silent.

    Run every minute by ``portal.tasks.sweep_jobs``. Idempotent and safe alongside workers: every
    change is a conditional update on the state it saw.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=job_stale_seconds())
    retried, failed = [], []
    silent = Job.objects.filter(status=JobStatus.RUNNING).filter(
        Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    )
    for job in silent.select_related("created_by"):
        same = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, attempts=job.attempts)
        if job.attempts < job_max_attempts():
            if same.update(
                status=JobStatus.PENDING,
                progress=0,
                heartbeat_at=None,
                queued_at=None,
                stage=stored(gettext_lazy("执行中断，等待第%(n)s次尝试"), n=job.attempts + 1),
            ):
                logger.warning("job %s: worker silent since %s, retrying", job.pk, job.last_sign_of_life)
                retried.append(job.pk)
            continue
        with transaction.atomic():
            if same.update(
                status=JobStatus.FAILED,
                finished_at=now,
                result={"interrupted": True},
                stage=stored(gettext_lazy("执行中断")),
                errors=[
                    stored(
                        gettext_lazy(
                            "任务执行中断：后台处理进程意外停止，已尝试%(n)s次仍未完成。"
                            "没有写入任何数据，请重新上传或重试。"
                        ),
                        n=job.attempts,
                    )
                ],
            ):
                logger.error("job %s: worker silent after %s attempts, failed", job.pk, job.attempts)
                _notify_job_outcome(job, JobStatus.FAILED)
                failed.append(job.pk)
    resend_before = now - JOB_RESEND_AFTER
    unsent = Job.objects.filter(status=JobStatus.PENDING, created_at__lt=resend_before).filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=resend_before)
    )
    resent = 0
    for pk in dict.fromkeys([*retried, *unsent.order_by("pk").values_list("pk", flat=True)[:500]]):
        if _job_send(pk):
            resent += 1
            Job.objects.filter(pk=pk, status=JobStatus.PENDING).update(queued_at=timezone.now())
    return {"retried": len(retried), "failed": len(failed), "sent": resent}


# A pending job not picked up this long after it was (re-)sent is sent again: the broker may
# have lost it (never reached it, or Redis restarted without persistence). Duplicates are harmless.
JOB_RESEND_AFTER = timedelta(minutes=1)


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
