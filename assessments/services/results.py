"""Results of a batch (评价结果, notice annex §4.2–4.3): attendance on the day, the internal
supervisor's report, scores per candidate per part or module (grid or Excel), filed with the
centre within 5 working days after the last day and reviewed by it (accept or return).

Pass rule: every part at least the standard's pass mark (default 60 of 100). With result assessment
and ``plan.theory_by_course_score`` the candidate's course exam score stands in for the theory exam
(``Score.substituted``). Only accepted results are what certificates are issued from
(``passed_candidates``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from io import BytesIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from assessments.models import (
    AssessmentMethod,
    BatchRoom,
    BatchStaff,
    Candidate,
    EvaluationPlan,
    PlanEvent,
    ResultAction,
    ResultEvent,
    ResultFiling,
    ResultStatus,
    Score,
)
from assessments.models.candidates import Attendance, Outcome
from assessments.models.staffing import Duty, RoomPart
from assessments.selectors import school_staff as _school_staff
from assessments.services.clock import is_late
from assessments.services.staffing import standard_for
from institutions.services.workflow import is_school_staff_of
from portal.access import users_with_roles
from portal.excel import Column, RowErrors, build_template, cell_text, number_identifier_message, number_shown
from portal.excel import read_sheet as excel_read_sheet
from portal.i18n import stored
from portal.models import Role, User
from portal.services import notify, record
from portal.workflow import Transition, TransitionError, Workflow, has_role, system

S = ResultStatus
A = ResultAction
THEORY, PRACTICAL = "theory", "practical"
EDITABLE = frozenset({S.OPEN, S.RETURNED})
RECORDED = frozenset({Attendance.PRESENT, Attendance.ABSENT, Attendance.CANCELLED})

__all__ = [
    "RESULTS",
    "Part",
    "anomalies",
    "attendance_record",
    "filing_of",
    "internal_report_save",
    "parts_of",
    "passed_candidates",
    "results_accept",
    "results_return",
    "results_submit",
    "scores_save",
    "standard_for",
]


# --- Who may act ----------------------------------------------------------------------------


def is_school_staff_of_plan(user, plan: EvaluationPlan) -> bool:
    return is_school_staff_of(user, plan.institution.school)


def is_internal_supervisor_of(user, plan: EvaluationPlan) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and BatchStaff.objects.filter(plan=plan, person=user, duty=Duty.INTERNAL_SUPERVISOR).exists()
    )


def may_record_attendance(user, plan: EvaluationPlan) -> bool:
    return is_school_staff_of_plan(user, plan) or is_internal_supervisor_of(user, plan)


def may_enter_scores(user, plan: EvaluationPlan) -> bool:
    return is_school_staff_of_plan(user, plan)


def _school_staff_of_filing(user, filing: ResultFiling) -> bool:
    return is_school_staff_of_plan(user, filing.plan)


# --- The workflow ---------------------------------------------------------------------------


def submit_problems(filing: ResultFiling) -> list[str]:
    """Why the results cannot be filed yet: attendance for everyone, every part of every present candidate."""
    plan = filing.plan
    problems: list[str] = []
    if not plan.was_accepted:
        problems.append(_("评价计划尚未备案通过，不能报送评价结果。"))
    candidates = list(plan.candidates.select_related("student").order_by("student__student_number"))
    if not candidates:
        problems.append(_("本批次没有考生，不能报送评价结果。"))
    parts = parts_of(plan)
    scored = defaultdict(set)
    for candidate_id, part in Score.objects.filter(candidate__plan=plan).values_list("candidate_id", "part"):
        scored[candidate_id].add(part)
    substitute = substitution_applies(plan)
    full = standard_for(plan).full_mark
    for c in candidates:
        who = f"{c.student.student_number} {c.student.name}"
        if c.attendance not in RECORDED:
            problems.append(_("考生%(who)s尚未登记考试情况（出席、缺考或取消资格）。") % {"who": who})
            continue
        if c.attendance != Attendance.PRESENT:
            continue
        if substitute and c.course_score is not None and not 0 <= c.course_score <= full:
            problems.append(
                _("考生%(who)s的课程考试成绩%(v)s不在0至%(full)s分之间，不能替代理论考试成绩。")
                % {"who": who, "v": c.course_score, "full": full}
            )
        missing = [
            str(p.label)
            for p in parts
            if p.code not in scored[c.pk] and not (p.code == THEORY and substitute and c.course_score is not None)
        ]
        if missing:
            problems.append(_("考生%(who)s缺少成绩：%(parts)s。") % {"who": who, "parts": "、".join(missing)})
    return problems


RESULTS = Workflow(
    name="results",
    model=ResultFiling,
    event_model=ResultEvent,
    event_fields=lambda filing: {"filing": filing, "round": filing.round},
    lock_related=("plan__institution__school__organisation",),
    state_message=gettext_lazy("评价结果当前状态为“%(status)s”，不能执行“%(action)s”。"),
    transitions=[
        Transition(
            A.SUBMIT, A.SUBMIT.label, EDITABLE, _school_staff_of_filing, target=S.SUBMITTED, guard=submit_problems
        ),
        Transition(
            A.RETURN,
            A.RETURN.label,
            frozenset({S.SUBMITTED}),
            has_role(Role.CENTRE_REVIEWER),
            target=S.RETURNED,
            needs_comment=True,
            style="outline-warning",
        ),
        Transition(
            A.ACCEPT, A.ACCEPT.label, frozenset({S.SUBMITTED}), has_role(Role.CENTRE_REVIEWER), target=S.ACCEPTED
        ),
        # The deadline job's note (status unchanged); no person takes it.
        Transition(A.MARK_OVERDUE, A.MARK_OVERDUE.label, EDITABLE, system),
    ],
)


def filing_of(plan: EvaluationPlan) -> ResultFiling:
    """The plan's results filing; an unsaved open one until something is recorded (reads write nothing)."""
    try:
        return plan.results
    except ResultFiling.DoesNotExist:
        return ResultFiling(plan=plan)


def _filing_locked(plan: EvaluationPlan) -> ResultFiling:
    """Inside a transaction: the plan's filing, created if needed, its row locked."""
    filing, _created = ResultFiling.objects.get_or_create(plan=plan)
    return ResultFiling.objects.select_for_update(of=("self",)).select_related("plan").get(pk=filing.pk)


# --- Parts, standard, pass rule -------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    code: str
    label: str


def parts_of(plan: EvaluationPlan) -> list[Part]:
    """Result assessment: theory and practical; process assessment: the plan's modules."""
    if plan.method == AssessmentMethod.PROCESS:
        return [Part(m.code, f"{m.code} {m.name}") for m in plan.modules.all()]
    return [Part(THEORY, str(RoomPart.THEORY.label)), Part(PRACTICAL, str(RoomPart.PRACTICAL.label))]


def substitution_applies(plan: EvaluationPlan) -> bool:
    return plan.method == AssessmentMethod.RESULT and plan.theory_by_course_score


def outcome_of(candidate: Candidate, values: dict[str, Decimal], parts: list[Part], pass_mark) -> str:
    """Absent and cancelled carried through; present: passed when every part is at least the pass mark."""
    if candidate.attendance == Attendance.ABSENT:
        return Outcome.ABSENT
    if candidate.attendance == Attendance.CANCELLED:
        return Outcome.CANCELLED
    if candidate.attendance != Attendance.PRESENT:
        return Outcome.PENDING
    if not parts or any(p.code not in values for p in parts):
        return Outcome.PENDING
    return Outcome.PASSED if all(values[p.code] >= Decimal(pass_mark) for p in parts) else Outcome.FAILED


@dataclass
class Row:
    """One candidate on the grid: scores by part (substituted theory included) and the outcome."""

    candidate: Candidate
    values: dict[str, Decimal]
    substituted: set[str]
    outcome: str

    @property
    def outcome_label(self) -> str:
        return str(Outcome(self.outcome).label)


def grid_rows(plan: EvaluationPlan, *, parts: list[Part] | None = None, standard=None) -> list[Row]:
    """Every candidate with their scores (one query for candidates, one for scores)."""
    parts = parts if parts is not None else parts_of(plan)
    standard = standard or standard_for(plan)
    candidates = list(plan.candidates.select_related("student").order_by("student__student_number", "pk"))
    by_candidate: dict[int, dict[str, Score]] = defaultdict(dict)
    for score in Score.objects.filter(candidate__plan=plan):
        by_candidate[score.candidate_id][score.part] = score
    substitute = substitution_applies(plan)
    rows = []
    for c in candidates:
        scores = by_candidate[c.pk]
        values = {part: s.value for part, s in scores.items()}
        substituted = {part for part, s in scores.items() if s.substituted}
        if substitute and c.course_score is not None and c.attendance == Attendance.PRESENT:
            values[THEORY] = c.course_score
            substituted.add(THEORY)
        if c.attendance != Attendance.PRESENT:
            values, substituted = {}, set()
        rows.append(Row(c, values, substituted, outcome_of(c, values, parts, standard.pass_mark)))
    return rows


def parse_score(raw: str, full_mark: int) -> tuple[Decimal | None, str | None]:
    """A typed score: (value, None), (None, None) when empty, or (None, the rule it breaks)."""
    text = (raw or "").strip()
    if not text:
        return None, None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, _("“%(v)s”不是数字。") % {"v": text[:20]}
    if not value.is_finite():
        return None, _("“%(v)s”不是数字。") % {"v": text[:20]}
    if value < 0 or value > full_mark:
        return None, _("成绩应在0至%(full)s分之间，填写的是%(v)s。") % {"full": full_mark, "v": text}
    if value != value.quantize(Decimal("0.1")):
        return None, _("成绩最多保留一位小数，填写的是%(v)s。") % {"v": text}
    return value.quantize(Decimal("0.1")), None


# --- On the day -----------------------------------------------------------------------------


def _day_problems(plan: EvaluationPlan) -> list[str]:
    problems = []
    if not plan.was_accepted:
        problems.append(_("评价计划尚未备案通过，不能登记考试情况或成绩。"))
    if timezone.now() < plan.starts_at:
        problems.append(
            _("评价尚未开始（开始时间%(start)s），开始后才能登记。")
            % {"start": timezone.localtime(plan.starts_at).strftime("%Y-%m-%d %H:%M")}
        )
    return problems


def _check_open(filing: ResultFiling) -> None:
    if filing.status not in EDITABLE:
        raise TransitionError(_("评价结果当前状态为“%(status)s”，不能修改。") % {"status": filing.get_status_display()})


def attendance_record(*, plan: EvaluationPlan, actor: User, entries: dict[int, tuple[str, str]]) -> int:
    """Record attendance for the batch: {candidate id: (present | absent | cancelled, reason)}.

    A cancelled candidate needs a reason. All or nothing; a candidate no longer present loses
    their scores. Returns how many candidates changed."""
    if not may_record_attendance(actor, plan):
        raise PermissionDenied
    problems = _day_problems(plan)
    if problems:
        raise TransitionError(problems)
    with transaction.atomic():
        filing = _filing_locked(plan)
        _check_open(filing)
        candidates = {c.pk: c for c in plan.candidates.select_related("student").select_for_update(of=("self",))}
        errors = []
        for candidate_id, (attendance, reason) in entries.items():
            c = candidates.get(candidate_id)
            if c is None:
                raise PermissionDenied
            who = f"{c.student.student_number} {c.student.name}"
            reason = (reason or "").strip()
            if attendance not in {*RECORDED, Attendance.EXPECTED}:
                errors.append(_("考生%(who)s：考试情况无效。") % {"who": who})
            elif attendance == Attendance.CANCELLED and not reason:
                errors.append(_("考生%(who)s：取消资格须填写原因。") % {"who": who})
            elif len(reason) > 200:
                errors.append(_("考生%(who)s：说明不超过200字。") % {"who": who})
        if errors:
            raise ValidationError(errors)
        changed = 0
        for candidate_id, (attendance, reason) in entries.items():
            c = candidates[candidate_id]
            reason = (reason or "").strip()
            if (c.attendance, c.attendance_reason) == (attendance, reason):
                continue
            c.attendance, c.attendance_reason = attendance, reason
            record(c, actor=actor, reason=stored(gettext_lazy("登记考试情况")))
            c.save(update_fields=["attendance", "attendance_reason"])
            if attendance != Attendance.PRESENT:
                for score in Score.objects.filter(candidate=c):
                    record(score, actor=actor, reason=stored(gettext_lazy("考生未出席，成绩删除")))
                    score.delete()
            changed += 1
    return changed


def internal_report_save(*, plan: EvaluationPlan, actor: User, text: str) -> ResultFiling:
    """The internal quality supervisor's report on the batch (内部质量督导报告)."""
    if not is_internal_supervisor_of(actor, plan):
        raise PermissionDenied
    problems = _day_problems(plan)
    if problems:
        raise TransitionError(problems)
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("督导报告不能为空。"))
    with transaction.atomic():
        filing = _filing_locked(plan)
        if filing.status == S.ACCEPTED:
            raise TransitionError(_("评价结果已审核通过，督导报告不能再修改。"))
        filing.internal_report = text
        filing.internal_report_by = actor
        filing.internal_report_at = timezone.now()
        record(filing, actor=actor, reason=stored(gettext_lazy("提交内部质量督导报告")))
        filing.save(update_fields=["internal_report", "internal_report_by", "internal_report_at"])
    return filing


# --- Scores ---------------------------------------------------------------------------------


def score_errors(plan: EvaluationPlan, typed: dict[int, dict[str, str]], *, where=None) -> tuple[dict, list[str]]:
    """Check typed scores {candidate id: {part: text}}: (parsed values, messages naming row and column).

    ``where(candidate)`` names the row (default: 学号 and 姓名)."""
    parts = parts_of(plan)
    labels = {p.code: p.label for p in parts}
    full = standard_for(plan).full_mark
    substitute = substitution_applies(plan)
    candidates = {c.pk: c for c in plan.candidates.select_related("student")}
    parsed: dict[int, dict[str, Decimal | None]] = {}
    errors: list[str] = []
    for candidate_id, by_part in typed.items():
        c = candidates.get(candidate_id)
        if c is None:
            raise PermissionDenied
        row = (
            where(c)
            if where
            else _("学号%(number)s（%(name)s）")
            % {
                "number": c.student.student_number,
                "name": c.student.name,
            }
        )
        values: dict[str, Decimal | None] = {}
        for part, text in by_part.items():
            if part not in labels:
                errors.append(_("%(row)s：没有“%(part)s”这一列。") % {"row": row, "part": part})
                continue
            if substitute and part == THEORY and c.course_score is not None:
                continue  # the course exam score stands in; what was typed is not used
            value, problem = parse_score(text, full)
            if problem:
                errors.append(
                    _("%(row)s「%(part)s」：%(problem)s") % {"row": row, "part": labels[part], "problem": problem}
                )
                continue
            if value is not None and c.attendance != Attendance.PRESENT:
                errors.append(
                    _("%(row)s「%(part)s」：考生为“%(attendance)s”，不录入成绩。")
                    % {"row": row, "part": labels[part], "attendance": c.get_attendance_display()}
                )
                continue
            values[part] = value
        parsed[candidate_id] = values
    return parsed, errors


def _apply_substitution(plan: EvaluationPlan, actor: User) -> None:
    """Result assessment with substitution: the course exam score is the theory score, marked as such."""
    existing = {s.candidate_id: s for s in Score.objects.filter(candidate__plan=plan, part=THEORY)}
    substitute = substitution_applies(plan)
    for c in plan.candidates.filter(attendance=Attendance.PRESENT):
        score = existing.get(c.pk)
        if not substitute or c.course_score is None:
            if score is not None and score.substituted:  # no course score (any more): theory is entered
                record(score, actor=actor, reason=stored(gettext_lazy("清除成绩")))
                score.delete()
            continue
        if score and score.substituted and score.value == c.course_score:
            continue
        score = score or Score(candidate=c, part=THEORY)
        score.value, score.substituted, score.entered_by = c.course_score, True, actor
        record(score, actor=actor, reason=stored(gettext_lazy("以课程考试成绩替代理论考试成绩")))
        score.save()


def scores_save(*, plan: EvaluationPlan, actor: User, typed: dict[int, dict[str, str]], where=None) -> int:
    """Save typed scores {candidate id: {part: text}}; an empty cell clears the score.

    All or nothing: any error refuses the whole grid (ValidationError naming row and column).
    Returns how many scores changed."""
    if not may_enter_scores(actor, plan):
        raise PermissionDenied
    problems = _day_problems(plan)
    if problems:
        raise TransitionError(problems)
    with transaction.atomic():
        filing = _filing_locked(plan)
        _check_open(filing)
        parsed, errors = score_errors(plan, typed, where=where)
        if errors:
            raise ValidationError(errors)
        existing = {(s.candidate_id, s.part): s for s in Score.objects.filter(candidate__plan=plan)}
        changed = 0
        for candidate_id, values in parsed.items():
            for part, value in values.items():
                score = existing.get((candidate_id, part))
                if value is None:
                    if score is not None and not score.substituted:
                        record(score, actor=actor, reason=stored(gettext_lazy("清除成绩")))
                        score.delete()
                        changed += 1
                    continue
                if score is not None and score.value == value and not score.substituted:
                    continue
                score = score or Score(candidate_id=candidate_id, part=part)
                score.value, score.substituted, score.entered_by = value, False, actor
                record(score, actor=actor, reason=stored(gettext_lazy("录入成绩")))
                score.save()
                changed += 1
        _apply_substitution(plan, actor)
    return changed


# --- Excel ----------------------------------------------------------------------------------


def score_columns(plan: EvaluationPlan) -> tuple[Column, ...]:
    full = standard_for(plan).full_mark
    substitute = substitution_applies(plan)
    columns = [
        Column("student_number", "学号", text=True),
        Column("name", "姓名"),
        Column("id_number", "证件号码", text=True),
    ]
    with translation.override("zh-hans"):  # the sheet's headers are Chinese whatever the reader's language
        parts = parts_of(plan)
    for p in parts:
        hint = f"0–{full}，最多一位小数；缺考或取消资格的考生留空"
        if substitute and p.code == THEORY:
            hint += "；有课程考试成绩的考生以课程成绩替代，本列不填"
        columns.append(Column(f"part:{p.code}", p.label, required=False, help=hint))
    return tuple(columns)


def score_template(plan: EvaluationPlan) -> bytes:
    """The import template, prefilled with the batch's candidates (学号, 姓名, 证件号码 as text)."""
    from openpyxl import load_workbook

    columns = score_columns(plan)
    wb = load_workbook(BytesIO(build_template(columns, "成绩")))
    ws = wb.worksheets[0]
    for number, row in enumerate(grid_rows(plan), start=2):
        s = row.candidate.student
        for col, value in enumerate((s.student_number, s.name, s.id_number), start=1):
            cell = ws.cell(row=number, column=col, value=value)
            cell.number_format = "@"
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def parse_score_file(plan: EvaluationPlan, data: bytes) -> tuple[dict[int, dict[str, str]], list[str]]:
    """The file's scores as typed {candidate id: {part: text}}, or the row-level messages."""
    columns = score_columns(plan)
    cols = {c.key: c for c in columns}
    errors = RowErrors()
    rows = excel_read_sheet(data, columns, errors)
    by_number = {c.student.student_number: c for c in plan.candidates.select_related("student")}
    typed: dict[int, dict[str, str]] = {}
    row_of: dict[int, int] = {}
    shown_again = False
    for number, raw in rows:
        ids = {}
        for key in ("student_number", "id_number"):
            shown = number_shown(raw.get(key)) if key == "id_number" else None
            if shown:
                errors.add(number, cols[key].header, number_identifier_message(shown, again=shown_again))
                shown_again = True
            ids[key] = cell_text(raw.get(key))
        if not ids["student_number"]:
            errors.add(number, cols["student_number"].header, _("不能为空。"))
            continue
        c = by_number.get(ids["student_number"])
        if c is None:
            errors.add(
                number, cols["student_number"].header, _("学号%(n)s不是本批次的考生。") % {"n": ids["student_number"]}
            )
            continue
        name = cell_text(raw.get("name"))
        if name != c.student.name:
            errors.add(
                number,
                cols["name"].header,
                _("姓名“%(got)s”与学号对应的考生“%(name)s”不一致。") % {"got": name, "name": c.student.name},
            )
        if ids["id_number"] and ids["id_number"].upper() != c.student.id_number.upper():
            errors.add(number, cols["id_number"].header, _("证件号码与学号对应的考生不一致。"))
        if c.pk in row_of:
            errors.add(number, cols["student_number"].header, _("与第%(r)s行的考生重复。") % {"r": row_of[c.pk]})
            continue
        row_of[c.pk] = number
        typed[c.pk] = {key.split(":", 1)[1]: cell_text(raw.get(key)) for key in cols if key.startswith("part:")}
    if not errors:
        _parsed, problems = score_errors(
            plan,
            typed,
            where=lambda c: _("第%(row)s行（学号%(n)s）") % {"row": row_of[c.pk], "n": c.student.student_number},
        )
        for message in problems:
            errors.add(None, None, message)
    return ({} if errors else typed), errors.final()


def scores_import(*, plan: EvaluationPlan, actor: User, data: bytes) -> int:
    """Excel import of scores: all or nothing, row-level messages (ValidationError)."""
    if not may_enter_scores(actor, plan):
        raise PermissionDenied
    problems = _day_problems(plan)
    if problems:
        raise TransitionError(problems)
    filing = filing_of(plan)
    _check_open(filing)
    typed, errors = parse_score_file(plan, data)
    if errors:
        raise ValidationError(errors)
    return scores_save(plan=plan, actor=actor, typed=typed)


def results_export(plan: EvaluationPlan) -> bytes:
    """The batch's results as Excel: one row per candidate, one column per part, the outcome."""
    parts = parts_of(plan)
    wb = Workbook()
    ws = wb.active
    ws.title = _("评价结果")[:31]
    filing = filing_of(plan)
    headers = [_("学号"), _("姓名"), _("证件号码"), _("考试情况"), _("说明")]
    headers += [p.label for p in parts] + [_("评价结果"), _("成绩说明")]
    ws.append([str(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in grid_rows(plan, parts=parts):
        s = row.candidate.student
        values = [
            s.student_number,
            s.name,
            s.id_number,
            row.candidate.get_attendance_display(),
            row.candidate.attendance_reason,
        ]
        values += [float(row.values[p.code]) if p.code in row.values else None for p in parts]
        outcome = row.candidate.outcome if filing.status == S.ACCEPTED else row.outcome
        values.append(str(Outcome(outcome).label))
        values.append(str(_("理论成绩以课程考试成绩替代")) if THEORY in row.substituted else "")
        ws.append(values)
        for col in (1, 3):
            ws.cell(row=ws.max_row, column=col).number_format = "@"
    ws.append([])
    ws.append([str(_("状态")), filing.get_status_display(), str(_("逾期报送")) if filing.late else ""])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- Filing and review ----------------------------------------------------------------------


def _tell(recipients, plan: EvaluationPlan, title, body: str = "") -> None:
    notify(
        recipients=list(recipients),
        title=stored(gettext_lazy("%(title)s：%(school)s"), title=title, school=plan.institution.name),
        body=body,
        link=reverse("assessments:plan_detail", args=[plan.pk]),
    )


def results_submit(*, plan: EvaluationPlan, actor: User) -> ResultFiling:
    """File the results with the centre; late when today is after the due day (and stays late)."""
    if not RESULTS.may(A.SUBMIT, ResultFiling(plan=plan), actor):
        raise PermissionDenied
    with transaction.atomic():
        created, _new = ResultFiling.objects.get_or_create(plan=plan)
        with RESULTS.step(A.SUBMIT, created, actor) as filing:
            now = timezone.now()
            filing.late = filing.late or is_late(filing.plan, timezone.localdate(now))
            filing.round += 1
            filing.submitted_at = now
            filing.first_submitted_at = filing.first_submitted_at or now
            _apply_substitution(filing.plan, actor)
            RESULTS.move(filing, A.SUBMIT, actor=actor, fields=("late", "round", "submitted_at", "first_submitted_at"))
            title = gettext_lazy("评价结果逾期报送，待审核") if filing.late else gettext_lazy("新的评价结果待审核")
            _tell(users_with_roles([Role.CENTRE_REVIEWER]), filing.plan, title)
    return filing


def results_return(*, plan: EvaluationPlan, actor: User, comment: str) -> ResultFiling:
    if not RESULTS.may(A.RETURN, ResultFiling(plan=plan), actor):
        raise PermissionDenied
    if not (comment or "").strip():
        raise ValidationError(_("退回修改须写明需要修改的内容。"))
    with RESULTS.step(A.RETURN, _existing_filing(plan, A.RETURN, actor), actor) as filing:
        RESULTS.move(filing, A.RETURN, actor=actor, comment=comment.strip())
        _tell(_school_staff(filing.plan), filing.plan, gettext_lazy("评价结果被退回修改"), comment.strip())
    return filing


def results_accept(*, plan: EvaluationPlan, actor: User, comment: str = "") -> ResultFiling:
    """Accept the results: each candidate's outcome is computed and frozen; certificates follow from these."""
    with RESULTS.step(A.ACCEPT, _existing_filing(plan, A.ACCEPT, actor), actor) as filing:
        filing.accepted_at = timezone.now()
        standard = standard_for(filing.plan)
        for row in grid_rows(filing.plan, standard=standard):
            c = row.candidate
            if c.outcome != row.outcome:
                c.outcome = row.outcome
                record(c, actor=actor, reason=stored(gettext_lazy("评价结果审核通过")))
                c.save(update_fields=["outcome"])
        RESULTS.move(filing, A.ACCEPT, actor=actor, comment=(comment or "").strip(), fields=("accepted_at",))
        _tell(_school_staff(filing.plan), filing.plan, gettext_lazy("评价结果已审核通过"))
    return filing


def _existing_filing(plan: EvaluationPlan, action: str, actor) -> ResultFiling:
    filing = ResultFiling.objects.filter(plan=plan).first()
    if filing is None:
        if not RESULTS.may(action, ResultFiling(plan=plan), actor):
            raise PermissionDenied
        raise TransitionError(_("评价结果尚未报送。"))
    return filing


def passed_candidates(plan: EvaluationPlan) -> QuerySet[Candidate]:
    """The candidates certificates are issued to: passed, in accepted results only."""
    return Candidate.objects.filter(plan=plan, outcome=Outcome.PASSED, plan__results__status=S.ACCEPTED).select_related(
        "student"
    )


# --- Anomalies for the reviewer -------------------------------------------------------------


def _large_batch() -> int:
    return int(getattr(settings, "PORTAL_RESULTS_LARGE_BATCH", 30))


def _identical_min() -> int:
    return int(getattr(settings, "PORTAL_RESULTS_IDENTICAL_MIN", 3))


def _last_acceptance(plan: EvaluationPlan):
    """When the centre last accepted the plan (its accepted version), or None."""
    snapshot = plan.snapshots.filter(accepted_at__isnull=False).order_by("-accepted_at").first()
    event = PlanEvent.objects.filter(plan=plan, action="accept").order_by("-created_at").first()
    times = [t for t in (snapshot and snapshot.accepted_at, event and event.created_at) if t]
    return max(times) if times else None


def anomalies(plan: EvaluationPlan) -> list[str]:
    """What the centre's reviewer should look at before accepting, each a sentence naming who."""
    out: list[str] = []
    parts = parts_of(plan)
    standard = standard_for(plan)
    rows = grid_rows(plan, parts=parts, standard=standard)
    present = [r for r in rows if r.candidate.attendance == Attendance.PRESENT]
    labels = {p.code: p.label for p in parts}

    # Identical score patterns across all parts.
    patterns: dict[tuple, list[Row]] = defaultdict(list)
    for r in present:
        if parts and all(p.code in r.values for p in parts):
            patterns[tuple(r.values[p.code] for p in parts)].append(r)
    for pattern, group in patterns.items():
        if len(group) >= _identical_min():
            scores = "、".join(f"{labels[p.code]}{v}" for p, v in zip(parts, pattern, strict=True))
            names = "、".join(f"{r.candidate.student.student_number} {r.candidate.student.name}" for r in group)
            out.append(
                _("%(n)s名考生各部分成绩完全相同（%(scores)s）：%(names)s。")
                % {"n": len(group), "scores": scores, "names": names}
            )

    # A 100% pass rate in a large batch.
    decided = [r for r in present if r.outcome in {Outcome.PASSED, Outcome.FAILED}]
    if len(decided) >= _large_batch() and all(r.outcome == Outcome.PASSED for r in decided):
        out.append(
            _("大批次合格率100%%：%(n)s名出席考生全部合格（%(large)s名及以上的批次提示核查）。")
            % {"n": len(decided), "large": _large_batch()}
        )

    # Scores entered after the due date.
    if plan.results_due_on:
        late_rows = defaultdict(list)
        for score in Score.objects.filter(candidate__plan=plan).select_related("candidate__student"):
            if timezone.localdate(score.entered_at) > plan.results_due_on:
                late_rows[score.candidate].append(labels.get(score.part, score.part))
        if late_rows:
            names = "、".join(
                f"{c.student.student_number} {c.student.name}（{'、'.join(ps)}）"
                for c, ps in sorted(late_rows.items(), key=lambda item: item[0].student.student_number)
            )
            out.append(
                _("%(n)s名考生的成绩在报送截止日%(due)s之后录入：%(names)s。")
                % {"n": len(late_rows), "due": plan.results_due_on.isoformat(), "names": names}
            )

    # Candidates or staff not in the accepted plan.
    accepted_at = _last_acceptance(plan)
    if accepted_at is not None:
        extra = [r.candidate for r in rows if r.candidate.added_at > accepted_at]
        if extra:
            names = "、".join(f"{c.student.student_number} {c.student.name}" for c in extra)
            out.append(_("%(n)s名考生不在已备案的评价计划中：%(names)s。") % {"n": len(extra), "names": names})
        staff = list(
            BatchStaff.objects.filter(plan=plan, added_at__gt=accepted_at).select_related("person", "room__room")
        )
        if staff:
            names = "、".join(
                f"{s.person.full_name or s.person.username}（{s.get_duty_display()}"
                + (f"，{s.room.room.name}" if s.room_id else "")
                + "）"
                for s in staff
            )
            out.append(_("%(n)s名考务人员不在已备案的评价计划中：%(names)s。") % {"n": len(staff), "names": names})

    # An examiner over the ratio in a practical room.
    ratio = standard.practical_candidates_per_examiner
    rooms = BatchRoom.objects.filter(plan=plan, part=RoomPart.PRACTICAL).select_related("room")
    examiners = defaultdict(int)
    for room_id in BatchStaff.objects.filter(plan=plan, duty=Duty.EXAMINER).values_list("room_id", flat=True):
        examiners[room_id] += 1
    for room in rooms:
        n = examiners[room.pk]
        if room.candidates_expected and (n == 0 or room.candidates_expected > ratio * n):
            out.append(
                _("实操考场%(room)s：考生%(c)s名、考评人员%(e)s名，超过每名考评人员%(ratio)s名考生的标准。")
                % {"room": room.room.name, "c": room.candidates_expected, "e": n, "ratio": ratio}
            )
    return out


# --- Voiding a result (oversight's sanction) ----------------------------------------------------


def result_void(*, candidate: Candidate, actor: User, reason: str, authority=None) -> Candidate:
    """A candidate's result declared invalid by a violation case's decision: outcome ``VOIDED``
    (so no longer in ``passed_candidates``), with history; the school is told. Only with the
    ``SANCTION`` authority; nothing is deleted (the scores stay as recorded)."""
    from institutions.services.workflow import SANCTION

    if authority is None or authority.name != SANCTION:
        raise PermissionDenied
    reason = (reason or "").strip() or authority.reason
    if not reason:
        raise ValidationError(_("宣布成绩无效须写明原因。"))
    with transaction.atomic():
        locked = (
            Candidate.objects.select_for_update(of=("self",))
            .select_related("student", "plan__institution")
            .get(pk=candidate.pk)
        )
        filing = ResultFiling.objects.filter(plan_id=locked.plan_id).first()
        if filing is None or filing.status != S.ACCEPTED:
            raise TransitionError(_("批次#%(n)s的评价结果尚未审核通过，没有可宣布无效的结果。") % {"n": locked.plan_id})
        if locked.outcome == Outcome.VOIDED:
            raise TransitionError(_("考生%(name)s的评价结果已被宣布无效。") % {"name": locked.student.name})
        locked.outcome = Outcome.VOIDED
        record(locked, actor=actor, reason=stored(gettext_lazy("依处理决定宣布成绩无效：%(reason)s"), reason=reason))
        locked.save(update_fields=["outcome"])
        _tell(
            _school_staff(locked.plan),
            locked.plan,
            stored(gettext_lazy("考生%(name)s的评价结果依处理决定无效"), name=locked.student.name),
            reason,
        )
    return locked
