"""The directory of filed institutions: suspend, restore, remove, renew, and daily expiry.

Each filed occupation is suspended, restored or removed on its own too (``directory_occupation_*``,
``DIRECTORY_OCCUPATION``), and never outlives its institution: its end date is at most the
institution's at confirmation and renewal, and the expiry job brings back any row that does.

Every change goes through the ``DIRECTORY`` workflow: row lock, right (a policy, or the
``SANCTION`` authority oversight acts with), state, history and an event row. The reason is
public: the directory shows it.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions.models import ExpiryReminder, Institution, InstitutionOccupation, InstitutionStatus
from institutions.services.notices import role_holders, school_staff
from institutions.services.transitions import validity_end
from institutions.services.workflow import DIRECTORY, DIRECTORY_OCCUPATION
from portal.i18n import stored
from portal.models import Role, User
from portal.services import notify, record
from portal.workflow import Authority

REMINDER_DAYS = (90, 30, 7)


def _tell_school(inst: Institution, title: str, body: str = "") -> None:
    notify(
        recipients=school_staff(inst.school),
        title=title,
        body=body,
        link=reverse("directory_detail", args=[inst.pk]),
    )


def _listing_change(workflow, obj, actor: User | None, *, action: str, reason: str, authority, institution_of, title):
    """One public directory step (suspend, restore, remove) on an institution or one occupation row:
    a reason is required and published; the school is told in its own language."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写原因（将在目录中公开）。"))
    with workflow.step(action, obj, actor, authority) as locked:
        locked.status_reason = reason
        workflow.move(locked, action, actor=actor, comment=reason, fields=("status_reason",), authority=authority)
        _tell_school(institution_of(locked), title(locked), reason)
    return locked


def _directory_change(
    institution: Institution, actor: User | None, *, action: str, reason: str, authority: Authority | None = None
) -> Institution:
    return _listing_change(
        DIRECTORY,
        institution,
        actor,
        action=action,
        reason=reason,
        authority=authority,
        institution_of=lambda inst: inst,
        title=lambda inst: stored(gettext_lazy("评价机构目录变更：%(a)s"), a=DIRECTORY[action].label),
    )


def institution_suspend(
    *, institution: Institution, actor: User | None, reason: str, authority: Authority | None = None
) -> Institution:
    return _directory_change(institution, actor, action="suspend", reason=reason, authority=authority)


def institution_restore(
    *, institution: Institution, actor: User | None, reason: str, authority: Authority | None = None
) -> Institution:
    return _directory_change(institution, actor, action="restore", reason=reason, authority=authority)


def institution_remove(
    *, institution: Institution, actor: User | None, reason: str, authority: Authority | None = None
) -> Institution:
    return _directory_change(institution, actor, action="remove", reason=reason, authority=authority)


# --- One occupation on its own -----------------------------------------------------------


def _occupation_change(
    row: InstitutionOccupation,
    actor: User | None,
    *,
    action: str,
    reason: str,
    authority: Authority | None = None,
) -> InstitutionOccupation:
    """Suspend, restore or remove one directory occupation; the institution stays as it is."""
    return _listing_change(
        DIRECTORY_OCCUPATION,
        row,
        actor,
        action=action,
        reason=reason,
        authority=authority,
        institution_of=lambda locked: locked.institution,
        title=lambda locked: stored(
            gettext_lazy("评价职业（工种）目录变更：%(a)s：%(o)s"),
            a=DIRECTORY_OCCUPATION[action].label,
            o=str(locked.occupation),
        ),
    )


def directory_occupation_suspend(
    *, row: InstitutionOccupation, actor: User | None, reason: str, authority: Authority | None = None
) -> InstitutionOccupation:
    """No new batch may be planned for this occupation until it is restored (``selectors.plannable_occupations``)."""
    return _occupation_change(row, actor, action="suspend", reason=reason, authority=authority)


def directory_occupation_restore(
    *, row: InstitutionOccupation, actor: User | None, reason: str, authority: Authority | None = None
) -> InstitutionOccupation:
    return _occupation_change(row, actor, action="restore", reason=reason, authority=authority)


def directory_occupation_remove(
    *, row: InstitutionOccupation, actor: User | None, reason: str, authority: Authority | None = None
) -> InstitutionOccupation:
    """Final: the occupation comes back only through a new application (add occupation or renewal)."""
    return _occupation_change(row, actor, action="remove", reason=reason, authority=authority)


# --- An occupation never outlives its institution ----------------------------------------


def occupation_valid_until(institution: Institution, end: dt.date) -> dt.date:
    """The end date a directory occupation of ``institution`` may carry: ``end``, at most the institution's."""
    return min(end, institution.valid_until)


def occupations_outliving(institution: Institution):
    """The occupation rows of ``institution`` whose validity ends after the institution's (should be none)."""
    return institution.occupations.filter(valid_until__gt=institution.valid_until)


def _limit_to_institution() -> int:
    """Expiry job: bring any occupation row that outlives its institution back to the institution's end date.

    Confirmation and renewal never write such a row; this repairs one written otherwise (an older
    confirmation, a manual fix), so that the row expires with its institution. Idempotent.
    """
    limited = 0
    outliving = InstitutionOccupation.objects.filter(valid_until__gt=F("institution__valid_until"))
    for pk in outliving.values_list("pk", flat=True):
        with transaction.atomic():
            row = (
                InstitutionOccupation.objects.select_for_update(of=("self",))
                .select_related("institution")
                .filter(pk=pk, valid_until__gt=F("institution__valid_until"))
                .first()
            )
            if row is None:
                continue
            row.valid_until = row.institution.valid_until
            record(row, actor=None, reason=stored(gettext_lazy("职业（工种）有效期不得超过评价机构有效期，已调整")))
            row.save(update_fields=["valid_until"])
            DIRECTORY_OCCUPATION.note(row, "limit_validity", actor=None, comment=row.valid_until.isoformat())
            limited += 1
    return limited


def institution_renew(*, institution: Institution, actor: User, reason: str) -> Institution:
    """Extends the institution and its current occupations by 3 years from today (after review)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写延续备案的依据。"))
    today = timezone.localdate()
    with DIRECTORY.step("renew", institution, actor) as inst:
        end = validity_end(today)
        inst.status_reason, inst.valid_until = reason, end
        DIRECTORY.move(inst, "renew", actor=actor, comment=reason, fields=("status_reason", "valid_until"))
        rows = inst.occupations.select_for_update().filter(status__in=DIRECTORY_OCCUPATION["renew"].sources)
        for row in rows:
            row.valid_until = occupation_valid_until(inst, end)
            DIRECTORY_OCCUPATION.move(row, "renew", actor=actor, fields=("valid_until",))
        if occupations_outliving(inst).exists():  # a suspended row is left as it was: never past the new end
            raise ValidationError(_("职业（工种）的有效期不得超过评价机构的有效期。"))
        _tell_school(inst, stored(gettext_lazy("评价机构备案已延续至%(d)s"), d=end.isoformat()))
    return inst


# --- Expiry (Celery beat, daily) -------------------------------------------------------


def _expire(workflow, queryset, today: dt.date) -> int:
    """Expire each row whose validity ended before ``today``, one locked step each."""
    count = 0
    for pk in queryset.filter(status=InstitutionStatus.ACTIVE, valid_until__lt=today).values_list("pk", flat=True):
        with transaction.atomic():
            row = queryset.select_for_update().filter(pk=pk, status=InstitutionStatus.ACTIVE).first()
            if row is None:  # another run got there first
                continue
            fields = ()
            if isinstance(row, Institution):
                row.status_reason = stored(gettext_lazy("有效期届满"))
                fields = ("status_reason",)
            workflow.check("expire", row, None)
            workflow.move(row, "expire", actor=None, fields=fields)
            count += 1
    return count


def expiry_run(*, today: dt.date) -> dict:
    """Send the 90/30/7-day reminders and expire what ended before ``today``. Idempotent.

    Every change is a locked conditional step or a unique reminder row: a second run on the
    same day changes nothing and notifies nobody.
    """
    limited = _limit_to_institution()
    expired_institutions = _expire(DIRECTORY, Institution.objects.all(), today)
    expired_occupations = _expire(DIRECTORY_OCCUPATION, InstitutionOccupation.objects.all(), today)
    reminders = 0
    centre = list(role_holders(Role.CENTRE_REVIEWER))
    for days in REMINDER_DAYS:
        horizon = today + dt.timedelta(days=days)
        due = Institution.objects.filter(
            status=InstitutionStatus.ACTIVE, valid_until__gt=today, valid_until__lte=horizon
        ).select_related("school__organisation")
        for inst in due:
            # Only the nearest threshold not yet passed: 100 days out gets nothing, 25 days out the 30-day one.
            nearest = min(d for d in REMINDER_DAYS if (inst.valid_until - today).days <= d)
            if nearest != days:
                continue
            with transaction.atomic():
                _reminder, created = ExpiryReminder.objects.get_or_create(
                    institution=inst, valid_until=inst.valid_until, days_before=days
                )
                if not created:
                    continue
                notify(
                    recipients=[*school_staff(inst.school), *centre],
                    title=stored(
                        gettext_lazy("评价机构备案将于%(d)s到期（剩余%(n)s天）：%(s)s"),
                        d=inst.valid_until.isoformat(),
                        n=(inst.valid_until - today).days,
                        s=inst.name,
                    ),
                    body=stored(gettext_lazy("到期后不能再安排评价计划；如需继续开展认定，请及时申请延续。")),
                    link=reverse("directory_detail", args=[inst.pk]),
                )
                reminders += 1
    return {
        "expired_institutions": expired_institutions,
        "expired_occupations": expired_occupations,
        "reminders": reminders,
        "limited_occupations": limited,
    }
