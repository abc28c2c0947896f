"""Admin views of the filing records, with their history.

Statuses, rounds and workflow outcomes are read-only here: only ``institutions.services``
moves an application or an institution from one state to another.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from institutions.models import (
    ApplicationEvent,
    AppliedOccupation,
    ConditionAnswer,
    Consent,
    EvidenceFile,
    ExpertPanel,
    ExpiryReminder,
    FilingApplication,
    FilingReceipt,
    Finding,
    Institution,
    InstitutionOccupation,
    PanelMember,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ("created_at", "round", "actor", "action", "from_status", "to_status", "comment")
    readonly_fields = fields


class AppliedOccupationInline(ReadOnlyInline):
    model = AppliedOccupation
    fields = ("occupation", "lowest_level", "highest_level", "basis", "specification_ref")
    readonly_fields = fields


@admin.register(FilingApplication)
class FilingApplicationAdmin(SimpleHistoryAdmin):
    list_display = ("id", "school", "kind", "status", "round", "submitted_at", "filed_at")
    list_filter = ("status", "kind", "school__organisation__district")
    list_select_related = ("school__organisation",)
    search_fields = ("school__organisation__name", "ministry_report_ref")
    readonly_fields = (
        "school",
        "kind",
        "institution",
        "status",
        "round",
        "created_by",
        "created_at",
        "submitted_at",
        "ministry_report_ref",
        "ministry_reported_on",
        "filed_at",
    )
    inlines = [AppliedOccupationInline, EventInline]

    def has_add_permission(self, request):
        return False


@admin.register(ApplicationEvent)
class ApplicationEventAdmin(admin.ModelAdmin):
    list_display = ("application", "round", "action", "from_status", "to_status", "actor", "created_at")
    list_filter = ("action", "to_status")
    list_select_related = ("application__school__organisation", "actor")
    readonly_fields = [f.name for f in ApplicationEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ConditionAnswer)
class ConditionAnswerAdmin(SimpleHistoryAdmin):
    list_display = ("application", "condition")
    list_filter = ("condition",)
    list_select_related = ("application__school__organisation",)
    readonly_fields = ("application", "condition")


@admin.register(EvidenceFile)
class EvidenceFileAdmin(SimpleHistoryAdmin):
    list_display = ("original_name", "answer", "content_type", "size", "uploaded_by", "uploaded_at")
    list_select_related = ("answer", "uploaded_by")
    search_fields = ("original_name",)
    readonly_fields = ("answer", "file", "content_type", "size", "uploaded_by", "uploaded_at")


@admin.register(AppliedOccupation)
class AppliedOccupationAdmin(SimpleHistoryAdmin):
    list_display = ("occupation", "application", "lowest_level", "highest_level", "basis")
    list_select_related = ("occupation", "application__school__organisation")
    readonly_fields = ("application",)
    raw_id_fields = ("occupation", "majors")


class PanelMemberInline(ReadOnlyInline):
    model = PanelMember
    fields = ("expert", "is_lead", "excluded", "conflict_note")
    readonly_fields = fields


@admin.register(ExpertPanel)
class ExpertPanelAdmin(SimpleHistoryAdmin):
    list_display = ("application", "formed_at", "conclusion", "signed_by", "signed_at")
    list_filter = ("conclusion",)
    list_select_related = ("application__school__organisation", "signed_by")
    readonly_fields = ("application", "formed_by", "formed_at", "conclusion", "signed_by", "signed_at")
    inlines = [PanelMemberInline]


@admin.register(PanelMember)
class PanelMemberAdmin(SimpleHistoryAdmin):
    list_display = ("expert", "panel", "is_lead", "excluded")
    list_filter = ("is_lead", "excluded")
    list_select_related = ("expert", "panel__application__school__organisation")
    readonly_fields = ("panel", "expert", "is_lead", "excluded")


@admin.register(Finding)
class FindingAdmin(SimpleHistoryAdmin):
    list_display = ("panel", "condition", "method", "satisfied", "recorded_by", "recorded_at")
    list_filter = ("condition", "method", "satisfied")
    list_select_related = ("panel__application__school__organisation", "recorded_by")
    readonly_fields = ("panel", "condition", "method", "satisfied", "recorded_by", "recorded_at")


@admin.register(Consent)
class ConsentAdmin(SimpleHistoryAdmin):
    list_display = ("application", "body", "agreed", "decided_by", "decided_at")
    list_filter = ("body", "agreed")
    list_select_related = ("application__school__organisation", "decided_by")
    readonly_fields = ("application", "body", "agreed", "decided_by", "decided_at")


class InstitutionOccupationInline(ReadOnlyInline):
    model = InstitutionOccupation
    fields = ("occupation", "lowest_level", "highest_level", "basis", "status", "valid_until")
    readonly_fields = fields


@admin.register(Institution)
class InstitutionAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "code", "status", "confirmed_on", "valid_until")
    list_filter = ("status", "school__organisation__district")
    list_select_related = ("school__organisation",)
    search_fields = ("school__organisation__name", "site_sequence")
    readonly_fields = (
        "school",
        "category_letter",
        "ministry_code",
        "province_code",
        "site_sequence",
        "status",
        "status_reason",
        "confirmed_on",
        "valid_until",
    )
    inlines = [InstitutionOccupationInline]

    def has_add_permission(self, request):
        return False


@admin.register(InstitutionOccupation)
class InstitutionOccupationAdmin(SimpleHistoryAdmin):
    list_display = ("occupation", "institution", "lowest_level", "highest_level", "status", "valid_until")
    list_filter = ("status", "basis")
    list_select_related = ("occupation", "institution__school__organisation")
    readonly_fields = ("institution", "occupation", "application", "status", "confirmed_on", "valid_until")


@admin.register(FilingReceipt)
class FilingReceiptAdmin(SimpleHistoryAdmin):
    list_display = ("number", "institution", "issued_at", "issued_by")
    list_select_related = ("institution__school__organisation", "issued_by")
    search_fields = ("number",)
    readonly_fields = ("application", "institution", "number", "issued_at", "issued_by", "pdf")


@admin.register(ExpiryReminder)
class ExpiryReminderAdmin(admin.ModelAdmin):
    list_display = ("institution", "valid_until", "days_before", "sent_at")
    list_select_related = ("institution__school__organisation",)
    readonly_fields = ("institution", "valid_until", "days_before", "sent_at")

    def has_add_permission(self, request):
        return False
