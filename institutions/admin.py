"""Admin views of the filing records, with their history: read-only.

Only ``institutions.services`` changes these records. Numbered documents (receipts) can never
be deleted. An administrator changes a directory entry through the admin actions below, which
ask for a reason and call the same services as the registry pages (the ``ADMINISTRATION``
authority), so the change is checked, recorded and notified like any other.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from institutions import services
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
    InstitutionEvent,
    InstitutionOccupation,
    OccupationJudgement,
    PanelMember,
)
from portal.admin_readonly import ReadOnlyAdminMixin, ReadOnlyInline
from portal.models import Role
from portal.workflow import Authority, TransitionError


class EventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ("created_at", "round", "actor", "action", "from_status", "to_status", "comment")
    readonly_fields = fields


class AppliedOccupationInline(ReadOnlyInline):
    model = AppliedOccupation
    fields = ("occupation", "lowest_level", "highest_level", "basis", "specification_ref")
    readonly_fields = fields


@admin.register(FilingApplication)
class FilingApplicationAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
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


@admin.register(ApplicationEvent)
class ApplicationEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("application", "round", "action", "from_status", "to_status", "actor", "created_at")
    list_filter = ("action", "to_status")
    list_select_related = ("application__school__organisation", "actor")
    readonly_fields = [f.name for f in ApplicationEvent._meta.fields]


@admin.register(ConditionAnswer)
class ConditionAnswerAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("application", "condition")
    list_filter = ("condition",)
    list_select_related = ("application__school__organisation",)
    readonly_fields = ("application", "condition")


@admin.register(EvidenceFile)
class EvidenceFileAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("original_name", "answer", "content_type", "size", "uploaded_by", "uploaded_at")
    list_select_related = ("answer", "uploaded_by")
    search_fields = ("original_name",)
    readonly_fields = ("answer", "file", "content_type", "size", "uploaded_by", "uploaded_at")


@admin.register(AppliedOccupation)
class AppliedOccupationAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("occupation", "application", "lowest_level", "highest_level", "basis")
    list_select_related = ("occupation", "application__school__organisation")
    readonly_fields = ("application",)
    raw_id_fields = ("occupation", "majors")


class PanelMemberInline(ReadOnlyInline):
    model = PanelMember
    fields = ("expert", "is_lead", "excluded", "conflict_note")
    readonly_fields = fields


@admin.register(ExpertPanel)
class ExpertPanelAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("application", "formed_at", "conclusion", "signed_by", "signed_at")
    list_filter = ("conclusion",)
    list_select_related = ("application__school__organisation", "signed_by")
    readonly_fields = (
        "application",
        "formed_by",
        "formed_at",
        "agreed_by",
        "agreed_at",
        "conclusion",
        "signed_by",
        "signed_at",
    )
    inlines = [PanelMemberInline]


@admin.register(PanelMember)
class PanelMemberAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("expert", "panel", "is_lead", "excluded")
    list_filter = ("is_lead", "excluded")
    list_select_related = ("expert", "panel__application__school__organisation")
    readonly_fields = ("panel", "expert", "is_lead", "excluded")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("panel", "condition", "expert", "met", "recorded_at")
    list_filter = ("condition", "met")
    list_select_related = ("panel__application__school__organisation", "expert")
    readonly_fields = ("panel", "expert", "condition", "methods", "met", "remarks", "recorded_at")


@admin.register(OccupationJudgement)
class OccupationJudgementAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("panel", "applied", "expert", "sound", "recorded_at")
    list_filter = ("sound",)
    list_select_related = ("panel__application__school__organisation", "expert", "applied__occupation")
    readonly_fields = ("panel", "expert", "applied", "sound", "remarks", "recorded_at")


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("application", "body", "agreed", "decided_by", "decided_at")
    list_filter = ("body", "agreed")
    list_select_related = ("application__school__organisation", "decided_by")
    readonly_fields = ("application", "body", "agreed", "decided_by", "decided_at")


class InstitutionOccupationInline(ReadOnlyInline):
    model = InstitutionOccupation
    fields = ("occupation", "lowest_level", "highest_level", "basis", "status", "valid_until")
    readonly_fields = fields


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("原因（记入变更记录，并在公开目录中显示）"), widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(Institution)
class InstitutionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
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
    actions = ["suspend", "restore", "remove"]

    def get_actions(self, request):
        # The read-only mixin would hide actions; these go through the services.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def _act(self, request, queryset, action: str, label: str):
        if not (request.user.is_superuser or request.user.has_role(Role.SYSTEM_ADMIN)):
            raise PermissionDenied
        form = ReasonForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            done, refused = 0, []
            authority = Authority(services.ADMINISTRATION, reason=form.cleaned_data["reason"])
            service = {
                "suspend": services.institution_suspend,
                "restore": services.institution_restore,
                "remove": services.institution_remove,
            }[action]
            for inst in queryset:
                try:
                    service(
                        institution=inst, actor=request.user, reason=form.cleaned_data["reason"], authority=authority
                    )
                    done += 1
                except (TransitionError, ValidationError) as exc:
                    refused.append(f"{inst}：{'；'.join(exc.messages)}")
            if done:
                self.message_user(request, _("已%(a)s %(n)s 个机构。") % {"a": label, "n": done}, messages.SUCCESS)
            for line in refused:
                self.message_user(request, line, messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(a)s：请填写原因") % {"a": label},
            "queryset": queryset,
            "form": form,
            "action": action,
            "opts": self.model._meta,
        }
        return render(request, "admin/institutions/reason_action.html", context)

    @admin.action(description=gettext_lazy("暂停所选机构（须填写原因）"))
    def suspend(self, request, queryset):
        return self._act(request, queryset, "suspend", _("暂停"))

    @admin.action(description=gettext_lazy("恢复所选机构（须填写原因）"))
    def restore(self, request, queryset):
        return self._act(request, queryset, "restore", _("恢复"))

    @admin.action(description=gettext_lazy("将所选机构移出目录（须填写原因）"))
    def remove(self, request, queryset):
        return self._act(request, queryset, "remove", _("移出目录"))


@admin.register(InstitutionOccupation)
class InstitutionOccupationAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("occupation", "institution", "lowest_level", "highest_level", "status", "valid_until")
    list_filter = ("status", "basis")
    list_select_related = ("occupation", "institution__school__organisation")
    readonly_fields = ("institution", "occupation", "application", "status", "confirmed_on", "valid_until")


@admin.register(FilingReceipt)
class FilingReceiptAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("number", "institution", "issued_at", "issued_by")
    list_select_related = ("institution__school__organisation", "issued_by")
    search_fields = ("number",)
    readonly_fields = ("application", "institution", "number", "issued_at", "issued_by", "pdf")


@admin.register(ExpiryReminder)
class ExpiryReminderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("institution", "valid_until", "days_before", "sent_at")
    list_select_related = ("institution__school__organisation",)
    readonly_fields = ("institution", "valid_until", "days_before", "sent_at")


@admin.register(InstitutionEvent)
class InstitutionEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("institution", "occupation", "action", "from_status", "to_status", "actor", "created_at")
    list_filter = ("action", "to_status")
    list_select_related = ("institution__school__organisation", "occupation__occupation", "actor")
    readonly_fields = [f.name for f in InstitutionEvent._meta.fields]
