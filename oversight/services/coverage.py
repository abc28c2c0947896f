"""Oversight: coverage services — other channels recorded with evidence, and the materialised rows.

What "covered" means here (notice main text 一(二) and 二(一)3; DOMAIN.md "Oversight"):

A major counts in school year Y (the calendar year the school year starts, 1 September – 31 August)
when it has graduating-year students: students whose ``academic_year_of(expected_graduation) == Y``.
Such a major is **covered** when its students could obtain a skill-level certificate through any channel:

(a) **in school** (``CoverageChannel.IN_SCHOOL``): an occupation filed by the school's own institution
    *corresponds* to the major — the major is listed on the ``AppliedOccupation`` of the same
    occupation in the application that filed it (``InstitutionOccupation.application`` + ``occupation``
    → ``AppliedOccupation.majors``) — and

    - for the **current** school year: the filing is in force today (occupation and institution both
      ``active``, confirmed on or before today, today within both validities). Being able to sit is
      enough (a batch may still be planned later in the year); a batch of it already held this
      school year also counts, even if the filing has lapsed since;
    - for an **ended** school year: the students could only have sat if a batch was held, so an
      evaluation plan of that filed occupation, accepted (or accepted and being changed), starting
      within that school year is required;

(b) **another channel**: an ``ExternalEvaluation`` for that major and year that is not withdrawn
    (social evaluation organisation, employer or skills competition), recorded by the school or the
    centre with its evidence.

An uncovered major gets one reason, that of the corresponding filing that came nearest to
covering it, in this order (furthest first):

1. ``NO_OCCUPATION``: no filed occupation corresponds (or, for an ended year, none was filed by its end);
2. ``EXPIRED``: the filing's (or the institution's) validity had ended — today for the current year,
   before the year began for an ended year — or its status is ``expired``;
3. ``SUSPENDED``: the occupation or the institution is suspended or removed from the directory —
   today for the current year; at the end of the year for an ended year, as the directory's event
   log (``InstitutionEvent``) tells it;
4. ``NO_BATCH``: (ended year only) a filing was in force but no batch of it was held in the year.

A future school year is not computed (nobody can say yet what will be in force).

``refresh_coverage(school_year)`` rebuilds the year's ``MajorCoverage`` rows in one transaction with
a fixed number of queries whatever the number of majors (bulk reads, one delete, bulk inserts).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions.models import AppliedOccupation, InstitutionEvent, InstitutionOccupation, InstitutionStatus
from institutions.services.drafting import checked_evidence
from institutions.services.workflow import is_school_staff_of
from oversight.models import CoverageChannel, ExternalEvaluation, MajorCoverage, UncoveredReason
from portal.i18n import stored
from portal.models import Role, User
from portal.queue import enqueue_on_commit
from portal.services import record
from schools.models import Major, School, Student, academic_year_of

__all__ = [
    "REASON_ORDER",
    "external_evaluation_record",
    "external_evaluation_withdraw",
    "may_record",
    "may_refresh",
    "refresh_coverage",
    "school_year_bounds",
]

# Furthest from covered first: the reason kept is the one of the filing that came nearest.
REASON_ORDER = (
    UncoveredReason.NO_OCCUPATION,
    UncoveredReason.EXPIRED,
    UncoveredReason.SUSPENDED,
    UncoveredReason.NO_BATCH,
)
_RANK = {reason: i for i, reason in enumerate(REASON_ORDER)}
_OUT = {InstitutionStatus.SUSPENDED, InstitutionStatus.REMOVED}
BULK_BATCH = 2000

# Who may press "刷新" (the centre and the commission); the beat job and the services refresh anyway.
REFRESH_ROLES = (Role.CENTRE_REVIEWER, Role.COMMISSION_OFFICER, Role.COMMISSION_DEPT_OFFICER)


def school_year_bounds(school_year: int) -> tuple[dt.date, dt.date]:
    """1 September of ``school_year`` to 31 August of the next calendar year."""
    return dt.date(school_year, 9, 1), dt.date(school_year + 1, 8, 31)


def may_refresh(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*REFRESH_ROLES))


def may_record(user, school: School) -> bool:
    """School staff for their own school; the centre for any school."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.has_role(Role.CENTRE_REVIEWER) or is_school_staff_of(user, school)


# --- Other channels (ExternalEvaluation) -----------------------------------------------


def external_evaluation_record(
    *,
    actor: User,
    major: Major,
    school_year: int,
    channel: str,
    provider: str,
    evidence,
    occupation=None,
    note: str = "",
    today: dt.date | None = None,
) -> ExternalEvaluation:
    """Record that ``major``'s graduating students may be certified through another channel in
    ``school_year``, with the evidence (PDF, JPEG or PNG judged by content, at most 10 MB)."""
    school = major.school
    if not may_record(actor, school):
        raise PermissionDenied
    errors: dict[str, list] = {}
    if channel not in {c for c in CoverageChannel.values if c != CoverageChannel.IN_SCHOOL}:
        errors["channel"] = [_("请选择评价渠道：社会培训评价组织、用人单位或职业技能竞赛。")]
    if not (provider or "").strip():
        errors["provider"] = [_("请填写评价组织或赛事名称。")]
    current = academic_year_of(today or timezone.localdate())
    if school_year > current:
        errors["school_year"] = [
            _("学年%(year)s尚未开始：只能登记当前或已结束学年的评价。") % {"year": school_year_label(school_year)}
        ]
    if evidence is None:
        errors["evidence"] = [_("请上传证明材料（PDF、JPEG 或 PNG）。")]
    if errors:
        raise ValidationError(errors)
    try:
        kind = checked_evidence(evidence)
    except ValidationError as exc:
        raise ValidationError({"evidence": exc.messages}) from exc
    with transaction.atomic():
        row = ExternalEvaluation(
            school=school,
            major=major,
            school_year=school_year,
            channel=channel,
            provider=provider.strip()[:200],
            occupation=occupation,
            note=note.strip(),
            evidence_name=evidence.name[:200],
            evidence_type=kind.mime,
            evidence_size=evidence.size,
            recorded_by=actor,
        )
        row.evidence.save(f"evidence.{kind.extension}", evidence, save=False)
        record(row, actor=actor, reason=stored(gettext_lazy("登记其他渠道评价")))
        row.save()
        _refresh_after_commit(school_year)
    return row


def external_evaluation_withdraw(*, evaluation: ExternalEvaluation, actor: User, reason: str) -> ExternalEvaluation:
    """Withdraw a recorded evaluation (never deleted): who, when and why are kept."""
    if not may_record(actor, evaluation.school):
        raise PermissionDenied
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("请填写撤销原因。")]})
    with transaction.atomic():
        row = ExternalEvaluation.objects.select_for_update().get(pk=evaluation.pk)
        if row.withdrawn_at is not None:
            when = timezone.localtime(row.withdrawn_at).strftime("%Y-%m-%d %H:%M")
            raise ValidationError(_("这条评价记录已于%(when)s撤销。") % {"when": when})
        row.withdrawn_at = timezone.now()
        row.withdrawn_by = actor
        row.withdraw_reason = reason.strip()
        record(row, actor=actor, reason=stored(gettext_lazy("撤销其他渠道评价")))
        row.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
        _refresh_after_commit(row.school_year)
    return row


def _refresh_after_commit(school_year: int) -> None:
    from oversight.tasks import refresh_coverage_task

    enqueue_on_commit(refresh_coverage_task, school_year)


def school_year_label(school_year: int) -> str:
    return f"{school_year}–{school_year + 1}"


# --- The materialised rows -----------------------------------------------------------


@dataclass(frozen=True)
class _Filing:
    """A filed occupation as coverage needs it (one row of one query)."""

    pk: int
    school_id: int
    status: str
    confirmed_on: dt.date
    valid_until: dt.date
    institution_id: int
    institution_status: str
    institution_valid_until: dt.date
    key: tuple[int, int]  # (application id, occupation id): where its corresponding majors are listed


def _filings() -> tuple[dict[int, _Filing], dict[int, list[int]]]:
    """Every filed occupation, and major id -> the filed occupations that correspond to it.

    Correspondence: the major is on the AppliedOccupation of the same occupation in the application
    that filed it, and the filing belongs to the major's own school (two queries)."""
    filings = {
        row["pk"]: _Filing(
            pk=row["pk"],
            school_id=row["institution__school_id"],
            status=row["status"],
            confirmed_on=row["confirmed_on"],
            valid_until=row["valid_until"],
            institution_id=row["institution_id"],
            institution_status=row["institution__status"],
            institution_valid_until=row["institution__valid_until"],
            key=(row["application_id"], row["occupation_id"]),
        )
        for row in InstitutionOccupation.objects.values(
            "pk",
            "status",
            "confirmed_on",
            "valid_until",
            "application_id",
            "occupation_id",
            "institution_id",
            "institution__school_id",
            "institution__status",
            "institution__valid_until",
        )
    }
    by_key: dict[tuple[int, int], list[int]] = defaultdict(list)
    for pk, f in filings.items():
        by_key[f.key].append(pk)
    through = AppliedOccupation.majors.through
    corresponding: dict[int, list[int]] = defaultdict(list)
    links = through.objects.filter(
        appliedoccupation__application_id__in=InstitutionOccupation.objects.values("application_id")
    ).values_list(
        "major_id", "major__school_id", "appliedoccupation__application_id", "appliedoccupation__occupation_id"
    )
    for major_id, school_id, application_id, occupation_id in links:
        for pk in by_key.get((application_id, occupation_id), ()):
            if filings[pk].school_id == school_id:
                corresponding[major_id].append(pk)
    return filings, corresponding


def _held_batches(start: dt.date, end: dt.date) -> set[int]:
    """Filed occupations with a batch held in the school year: a plan accepted (or accepted and now
    being changed) that starts within it."""
    from assessments.models import EvaluationPlan, PlanStatus

    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    accepted = Q(status__in=[PlanStatus.ACCEPTED, PlanStatus.AMENDING]) | Q(
        status__in=[PlanStatus.SUBMITTED, PlanStatus.RETURNED], snapshots__accepted_at__isnull=False
    )
    return set(
        EvaluationPlan.objects.filter(accepted, starts_at__gte=since, starts_at__lt=until)
        .values_list("occupation_id", flat=True)
        .distinct()
    )


def _status_at(day: dt.date) -> tuple[dict[int, str], dict[int, str]]:
    """Directory status at the end of ``day`` from the event log: (institution id -> status,
    occupation id -> status); an object without an event by then was active (one query)."""
    tz = timezone.get_current_timezone()
    until = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    institutions: dict[int, str] = {}
    occupations: dict[int, str] = {}
    events = InstitutionEvent.objects.filter(created_at__lt=until).order_by("created_at", "id")
    for inst_id, occ_id, to_status in events.values_list("institution_id", "occupation_id", "to_status"):
        if occ_id is None:
            institutions[inst_id] = to_status
        else:
            occupations[occ_id] = to_status
    return institutions, occupations


def _reason_now(f: _Filing, today: dt.date) -> UncoveredReason | None:
    """None when the filing is in force today; else why not (current school year)."""
    if f.confirmed_on > today:
        return UncoveredReason.NO_OCCUPATION
    if (
        InstitutionStatus.EXPIRED in (f.status, f.institution_status)
        or f.valid_until < today
        or f.institution_valid_until < today
    ):
        return UncoveredReason.EXPIRED
    if f.status in _OUT or f.institution_status in _OUT:
        return UncoveredReason.SUSPENDED
    return None


def _reason_then(
    f: _Filing, start: dt.date, end: dt.date, held: set[int], inst_status: dict[int, str], occ_status: dict[int, str]
) -> UncoveredReason | None:
    """None when a batch of the filing was held in the (ended) school year; else why not."""
    if f.pk in held:
        return None
    if f.confirmed_on > end:
        return UncoveredReason.NO_OCCUPATION
    if min(f.valid_until, f.institution_valid_until) < start:
        return UncoveredReason.EXPIRED
    if (
        occ_status.get(f.pk, InstitutionStatus.ACTIVE) in _OUT
        or inst_status.get(f.institution_id, InstitutionStatus.ACTIVE) in _OUT
    ):
        return UncoveredReason.SUSPENDED
    return UncoveredReason.NO_BATCH


def refresh_coverage(school_year: int, *, today: dt.date | None = None, now=None) -> dict:
    """Rebuild the ``MajorCoverage`` rows of ``school_year`` (one transaction, constant queries).

    Returns counts: majors, covered. A future school year is refused (ValidationError)."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    current = academic_year_of(today)
    if school_year > current:
        raise ValidationError(_("学年%(year)s尚未开始，无法统计覆盖率。") % {"year": school_year_label(school_year)})
    start, end = school_year_bounds(school_year)
    ended = school_year < current

    graduating = (
        Student.objects.filter(expected_graduation__gte=start, expected_graduation__lte=end)
        .values("major_id", "school_id", "school__organisation__district_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    external: dict[int, set[str]] = defaultdict(set)
    for major_id, channel in (
        ExternalEvaluation.objects.filter(school_year=school_year, withdrawn_at__isnull=True)
        .values_list("major_id", "channel")
        .distinct()
    ):
        external[major_id].add(channel)
    filings, corresponding = _filings()
    held = _held_batches(start, end if ended else min(end, today))
    if ended:
        inst_status, occ_status = _status_at(end)

    rows = []
    for g in graduating:
        major_id = g["major_id"]
        channels = set(external.get(major_id, ()))
        reasons = []
        for pk in corresponding.get(major_id, ()):
            f = filings[pk]
            if ended:
                reason = _reason_then(f, start, end, held, inst_status, occ_status)
            else:
                reason = None if pk in held else _reason_now(f, today)
            if reason is None:
                channels.add(CoverageChannel.IN_SCHOOL)
                break
            reasons.append(reason)
        covered = bool(channels)
        rows.append(
            MajorCoverage(
                school_year=school_year,
                school_id=g["school_id"],
                major_id=major_id,
                district_id=g["school__organisation__district_id"],
                graduating_students=g["n"],
                covered=covered,
                channels=",".join(c for c in CoverageChannel.values if c in channels),
                reason="" if covered else max(reasons or [UncoveredReason.NO_OCCUPATION], key=lambda r: _RANK[r]).value,
                computed_at=now,
            )
        )
    with transaction.atomic():
        MajorCoverage.objects.filter(school_year=school_year).delete()  # no cascades: one DELETE
        MajorCoverage.objects.bulk_create(rows, batch_size=BULK_BATCH)
    return {"school_year": school_year, "majors": len(rows), "covered": sum(r.covered for r in rows)}
