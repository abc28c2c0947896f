"""The 5-working-day clock of a batch's results (notice annex §4.3; issue 8 items 8 and 9).

Results are due ``PORTAL_RESULTS_WORKING_DAYS`` (default 5) working days after the batch's last
day, counted on the portal's working-day calendar (``portal.working_days``: weekends and
statutory holidays skipped, make-up workdays counted). The due date is kept on the plan
(``results_due_on``); while the calendar does not know a year the count runs into, the plan keeps
that year instead (``due_unknown_year``), shows "无法计算：…年工作日历尚未发布" and the system
administrators are told once for that year. Never a guess: the date appears once an
administrator publishes the year (``_calendar_changed`` below, and the daily deadline job).

The deadline job (``results_deadlines_run``, beat task ``assessments.tasks.run_results_deadlines``)
reminds the school 2 working days before the due day and on it, and after it marks the filing
overdue (``ResultFiling.overdue_since``, never cleared) and tells the centre and the district
bureau. ``DeadlineReminder`` rows make every notice go out once, however often the job runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from assessments.models import (
    DeadlineReminder,
    EvaluationPlan,
    PlanSnapshot,
    PlanStatus,
    ResultAction,
    ResultEvent,
    ResultFiling,
    ResultStatus,
)
from assessments.selectors import school_staff as _school_staff
from portal.access import users_with_roles
from portal.i18n import stored
from portal.models import CalendarDay, CalendarYear, Role
from portal.services import notify, record
from portal.working_days import CalendarUnknownError, WorkCalendar
from schools.models import Level

# Working days before the due day on which the school is reminded (and again on the day).
REMIND_WORKING_DAYS_BEFORE = 2
# Bounds of the working days a caller may ask for (the public API's ``days``).
MIN_WORKING_DAYS, MAX_WORKING_DAYS = 1, 60


def results_working_days() -> int:
    return int(getattr(settings, "PORTAL_RESULTS_WORKING_DAYS", 5))


# --- The due date ------------------------------------------------------------------------


def results_due(
    end_date: dt.date, *, days: int | None = None, calendar: WorkCalendar | None = None
) -> tuple[dt.date | None, int | None]:
    """(due date, None), or (None, the year the calendar does not know): ``days`` working days
    (default ``PORTAL_RESULTS_WORKING_DAYS``) after ``end_date``, which itself is not counted."""
    calendar = calendar or WorkCalendar()
    try:
        return calendar.add_working_days(end_date, results_working_days() if days is None else days), None
    except CalendarUnknownError as exc:
        return None, exc.year


def last_day(plan: EvaluationPlan) -> dt.date:
    """The batch's last day, in the portal's time zone (Asia/Shanghai)."""
    return timezone.localdate(plan.ends_at)


def results_due_refresh(plan: EvaluationPlan, *, save: bool = True, calendar: WorkCalendar | None = None) -> bool:
    """Store the plan's due date (or the unknown year) from its end; True if it changed.

    With ``save=False`` only the attributes are set (for a plan about to be saved by its
    caller); otherwise the two columns are written without a history row (they follow from the
    end date and the calendar, which have their own history). An unknown year tells the system
    administrators, once for that year.
    """
    due, unknown = results_due(last_day(plan), calendar=calendar)
    changed = (plan.results_due_on, plan.due_unknown_year) != (due, unknown)
    plan.results_due_on, plan.due_unknown_year = due, unknown
    if save and changed and plan.pk:
        EvaluationPlan.objects.filter(pk=plan.pk).update(results_due_on=due, due_unknown_year=unknown)
    if unknown is not None:
        calendar_missing_tell(unknown)
    return changed


def results_due_recompute(plans: QuerySet[EvaluationPlan]) -> int:
    """Refresh the due date of each plan with one calendar snapshot; returns how many changed."""
    calendar = WorkCalendar()
    changed, unknown = [], set()
    for plan in plans.only("pk", "ends_at", "results_due_on", "due_unknown_year"):
        due, year = results_due(last_day(plan), calendar=calendar)
        if (plan.results_due_on, plan.due_unknown_year) != (due, year):
            plan.results_due_on, plan.due_unknown_year = due, year
            changed.append(plan)
        if year is not None:
            unknown.add(year)
    with transaction.atomic():
        EvaluationPlan.objects.bulk_update(changed, ["results_due_on", "due_unknown_year"], batch_size=500)
        for year in sorted(unknown):
            calendar_missing_tell(year)
    return len(changed)


def _live_plans() -> QuerySet[EvaluationPlan]:
    """Plans whose due date still matters: not withdrawn, results not yet accepted."""
    return EvaluationPlan.objects.exclude(status=PlanStatus.WITHDRAWN).exclude(results__status=ResultStatus.ACCEPTED)


def calendar_missing_tell(year: int) -> int:
    """Tell the system administrators, once per year, that a due date waits for ``year``'s calendar
    (as ``portal.services.calendar_coverage_check`` does: an administrator already told is skipped)."""
    title = stored(gettext_lazy("无法计算评价结果报送截止日：%(year)s年工作日历尚未发布"), year=year)
    admins = users_with_roles([Role.SYSTEM_ADMIN]).exclude(notifications__title=title)
    if not admins.exists():
        return 0
    with transaction.atomic():
        return len(
            notify(
                recipients=list(admins),
                title=title,
                body=stored(
                    gettext_lazy(
                        "有评价计划的评价结果报送截止日落在%(year)s年，工作日历尚未包含该年度的法定节假日和调休安排，"
                        "平台不作推测，截止日暂显示为“无法计算”。请在工作日历中发布%(year)s年的安排，截止日随即算出。"
                    ),
                    year=year,
                ),
                link=reverse("calendar") + f"?year={year}",
            )
        )


def is_late(plan: EvaluationPlan, on: dt.date) -> bool:
    """Whether results filed on ``on`` are late: after the due day. A due date the calendar cannot
    compute yet is never taken as passed (no guess)."""
    return plan.results_due_on is not None and on > plan.results_due_on


def days_overdue(plan: EvaluationPlan, on: dt.date | None = None) -> int:
    """Calendar days since the due day (0 on it or before, or while it is unknown)."""
    if plan.results_due_on is None:
        return 0
    return max(((on or timezone.localdate()) - plan.results_due_on).days, 0)


# The calendar changes (an administrator publishes a year or edits a day): recompute after commit,
# when all of the year's days are in. Connected when this module is imported (assessments.services
# imports it); the daily deadline job recomputes too, whatever process changed the calendar.


@receiver(post_save, sender=CalendarYear, dispatch_uid="assessments.clock.calendar_year_saved")
@receiver(post_delete, sender=CalendarYear, dispatch_uid="assessments.clock.calendar_year_deleted")
def _calendar_year_changed(sender, instance, **kwargs) -> None:
    transaction.on_commit(lambda: results_due_recompute(_live_plans().filter(due_unknown_year__isnull=False)))


@receiver(post_save, sender=CalendarDay, dispatch_uid="assessments.clock.calendar_day_saved")
@receiver(post_delete, sender=CalendarDay, dispatch_uid="assessments.clock.calendar_day_deleted")
def _calendar_day_changed(sender, instance, **kwargs) -> None:
    day = instance.date
    window = Q(ends_at__date__gte=day - dt.timedelta(days=4 * MAX_WORKING_DAYS), ends_at__date__lte=day)
    transaction.on_commit(
        lambda: results_due_recompute(_live_plans().filter(window | Q(due_unknown_year__isnull=False)))
    )


# --- Who sees which overdue batches -------------------------------------------------------


def overdue_plans(user) -> QuerySet[EvaluationPlan]:
    """Batches in the user's scope (``assessments.selectors.plan_list``) whose results are overdue
    and still not filed, most overdue first."""
    from assessments.selectors import plan_list

    return (
        plan_list(user=user)
        .filter(results__overdue_since__isnull=False, results__status=ResultStatus.OPEN)
        .select_related("results")
        .order_by("results_due_on", "pk")
    )


def late_plans(user) -> QuerySet[EvaluationPlan]:
    """Batches in the user's scope whose results were filed after the due day (they stay late)."""
    from assessments.selectors import plan_list

    return (
        plan_list(user=user)
        .filter(Q(results__late=True) | Q(results__overdue_since__isnull=False))
        .exclude(results__status=ResultStatus.OPEN)
        .select_related("results")
        .order_by("-results_due_on", "-pk")
    )


# --- The deadline job -----------------------------------------------------------------------


def held_plans() -> QuerySet[EvaluationPlan]:
    """Batches held under an accepted version (accepted, or being changed after acceptance)."""
    accepted_version = Exists(PlanSnapshot.objects.filter(plan=OuterRef("pk"), accepted_at__isnull=False))
    return EvaluationPlan.objects.filter(
        Q(status=PlanStatus.ACCEPTED)
        | Q(status__in=[PlanStatus.AMENDING, PlanStatus.SUBMITTED, PlanStatus.RETURNED]) & accepted_version
    )


def awaiting_results() -> QuerySet[EvaluationPlan]:
    """Held batches whose results have not been filed yet (no filing, or still open)."""
    filed = Exists(ResultFiling.objects.filter(plan=OuterRef("pk")).exclude(status=ResultStatus.OPEN))
    return held_plans().exclude(filed)


@dataclass
class DeadlineRun:
    reminded_before: list[int] = field(default_factory=list)
    reminded_due: list[int] = field(default_factory=list)
    marked_overdue: list[int] = field(default_factory=list)
    recomputed: int = 0

    def as_dict(self) -> dict:
        return {
            "reminded_before": self.reminded_before,
            "reminded_due": self.reminded_due,
            "marked_overdue": self.marked_overdue,
            "recomputed": self.recomputed,
        }


def _once(plan: EvaluationPlan, kind: str) -> bool:
    """Claim the notice ``kind`` for the plan's current due date; False if it was already sent."""
    _row, created = DeadlineReminder.objects.get_or_create(plan=plan, kind=kind, due_on=plan.results_due_on)
    return created


def _overseers(plan: EvaluationPlan):
    """The centre's reviewers and the officers of the district bureau of the school's district."""
    centre = list(users_with_roles([Role.CENTRE_REVIEWER]))
    district_id = plan.institution.school.organisation.district_id
    bureau = list(users_with_roles([Role.DISTRICT_HR_OFFICER]).filter(organisation__district_id=district_id))
    return centre + bureau


def _tell(recipients, plan: EvaluationPlan, title, body) -> None:
    notify(
        recipients=list(recipients),
        title=stored(gettext_lazy("%(title)s：%(school)s"), title=title, school=plan.institution.name),
        body=body,
        link=reverse("assessments:plan_detail", args=[plan.pk]),
    )


def _batch(plan: EvaluationPlan) -> str:
    return stored(
        gettext_lazy("评价计划#%(n)s（%(occupation)s，%(level)s）"),
        n=plan.pk,
        occupation=str(plan.occupation.occupation),
        level=Level(plan.level).label,
    )


def _mark_overdue(plan: EvaluationPlan, today: dt.date) -> bool:
    """Set ``overdue_since`` on the batch's filing (created open if missing); True the first time."""
    filing, _created = ResultFiling.objects.select_for_update().get_or_create(
        plan=plan, defaults={"status": ResultStatus.OPEN}
    )
    if filing.overdue_since is not None or filing.status != ResultStatus.OPEN:
        return False
    filing.overdue_since = plan.results_due_on + dt.timedelta(days=1)
    record(filing, actor=None, reason=stored(gettext_lazy("评价结果逾期未报送")))
    filing.save()
    ResultEvent.objects.create(
        filing=filing,
        action=ResultAction.MARK_OVERDUE,
        from_status=filing.status,
        to_status=filing.status,
        round=filing.round,
        actor=None,
        comment=stored(
            gettext_lazy("报送截止日%(due)s已过，评价结果尚未报送（%(today)s）。"),
            due=plan.results_due_on,
            today=today,
        ),
    )
    return True


def _working_days_left(calendar: WorkCalendar, today: dt.date, due: dt.date) -> int | None:
    try:
        return calendar.working_days_between(today, due)
    except CalendarUnknownError:  # today in a year the calendar lacks: no reminder rather than a guess
        return None


def results_deadlines_run(*, today: dt.date | None = None) -> DeadlineRun:
    """The daily deadline job: refresh due dates, remind, mark overdue. Safe to run any number of times."""
    today = today or timezone.localdate()
    run = DeadlineRun()
    calendar = WorkCalendar()
    recent = Q(ends_at__date__gte=today - dt.timedelta(days=4 * MAX_WORKING_DAYS)) | Q(due_unknown_year__isnull=False)
    # Ends moved or a calendar year published by a process that did not recompute: catch up.
    run.recomputed = results_due_recompute(_live_plans().filter(recent))
    horizon = today + dt.timedelta(days=31)  # past the longest holiday before the reminder
    plans = (
        awaiting_results()
        .filter(results_due_on__isnull=False, results_due_on__lte=horizon)
        .select_related("institution__school__organisation", "occupation__occupation")
        .order_by("results_due_on", "pk")
    )
    for plan in plans:
        due = plan.results_due_on
        with transaction.atomic():
            if today > due:
                if _mark_overdue(plan, today) and _once(plan, "overdue"):
                    body = stored(
                        gettext_lazy("%(batch)s的评价结果应于%(due)s前报送，至今未报送，已标记为逾期。"),
                        batch=_batch(plan),
                        due=due,
                    )
                    _tell(_overseers(plan), plan, gettext_lazy("评价结果逾期未报送"), body)
                    _tell(_school_staff(plan), plan, gettext_lazy("评价结果逾期未报送"), body)
                    run.marked_overdue.append(plan.pk)
            elif today == due:
                if _once(plan, "due"):
                    body = stored(
                        gettext_lazy("%(batch)s的评价结果报送截止日为今天（%(due)s），请在今天内报送。"),
                        batch=_batch(plan),
                        due=due,
                    )
                    _tell(_school_staff(plan), plan, gettext_lazy("今天是评价结果报送截止日"), body)
                    run.reminded_due.append(plan.pk)
            elif (left := _working_days_left(calendar, today, due)) is not None and left <= REMIND_WORKING_DAYS_BEFORE:
                if _once(plan, "before"):
                    body = stored(
                        gettext_lazy("%(batch)s的评价结果须于%(due)s前报送（还有%(n)s个工作日）。"),
                        batch=_batch(plan),
                        due=due,
                        n=left,
                    )
                    _tell(_school_staff(plan), plan, gettext_lazy("评价结果报送截止日临近"), body)
                    run.reminded_before.append(plan.pk)
    return run
