"""Batch records in the admin: to read, with their history; they change only through the services.

The staffing standards are edited by the centre on its own page (/assessments/standards/), which
checks the rules and records who changed what."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from assessments.models import (
    Barring,
    BatchRoom,
    BatchStaff,
    Candidate,
    CandidateOpening,
    EvaluationPlan,
    PlanEvent,
    ResultEvent,
    ResultFiling,
    Score,
    StaffingStandard,
    SupervisionAssignment,
    SupervisionFinding,
)
from portal.admin_readonly import ReadOnlyAdminMixin, ReadOnlyInline


class PlanEventInline(ReadOnlyInline):
    model = PlanEvent
    fields = ("created_at", "actor", "action", "from_status", "to_status", "round", "comment")


class BatchRoomInline(ReadOnlyInline):
    model = BatchRoom
    fields = ("room", "part", "starts_at", "ends_at", "candidates_expected")


class BatchStaffInline(ReadOnlyInline):
    model = BatchStaff
    fields = ("person", "duty", "room", "invited")


@admin.register(EvaluationPlan)
class EvaluationPlanAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("id", "institution", "occupation", "level", "starts_at", "status", "results_due_on")
    list_filter = ("status", "level", "method")
    search_fields = ("institution__name", "occupation__occupation__name")
    list_select_related = ("institution", "occupation__occupation")
    inlines = [BatchRoomInline, BatchStaffInline, PlanEventInline]


@admin.register(Candidate)
class CandidateAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("id", "plan", "student", "level", "attendance", "outcome")
    list_filter = ("attendance", "outcome")
    search_fields = ("student__name", "student__student_number")
    list_select_related = ("plan__institution", "plan__occupation__occupation", "student")


class ResultEventInline(ReadOnlyInline):
    model = ResultEvent
    fields = ("created_at", "actor", "action", "from_status", "to_status", "round", "comment")


@admin.register(ResultFiling)
class ResultFilingAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("plan", "status", "round", "submitted_at", "late", "overdue_since", "accepted_at")
    list_filter = ("status", "late")
    inlines = [ResultEventInline]


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("candidate", "part", "value", "substituted", "entered_at")


@admin.register(StaffingStandard)
class StaffingStandardAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("__str__", "theory_candidates_per_invigilator", "practical_candidates_per_examiner", "pass_mark")


@admin.register(CandidateOpening)
class CandidateOpeningAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("institution", "school", "decided_on", "reference", "ended_on")


@admin.register(Barring)
class BarringAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("kind", "id_number", "person", "starts_on", "ends_on")


class FindingInline(ReadOnlyInline):
    model = SupervisionFinding
    fields = ("kind", "description", "answer", "answered_at")


@admin.register(SupervisionAssignment)
class SupervisionAssignmentAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("plan", "supervisor", "body", "assigned_at", "report_filed_at")
    inlines = [FindingInline]
