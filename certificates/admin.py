"""Admin views of certificates and their records, with their history: read-only.

Only ``certificates.services`` changes these rows (a revocation or correction goes through the
request pages or oversight's authority); nothing here can be added, changed or deleted.
"""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from certificates.models import (
    CandidatePhoto,
    Certificate,
    CertificateReport,
    NationalExport,
    StatusRequest,
    StatusRequestEvent,
    VerificationLog,
)
from portal.admin_readonly import ReadOnlyAdminMixin, ReadOnlyInline


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("number", "name", "occupation_name", "level", "institution_name", "issued_on", "status")
    list_filter = ("status", "level")
    search_fields = ("number", "name")
    date_hierarchy = "issued_on"


@admin.register(CandidatePhoto)
class CandidatePhotoAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("student", "content_type", "width", "height", "size", "uploaded_at")


class StatusRequestEventInline(ReadOnlyInline):
    model = StatusRequestEvent


@admin.register(StatusRequest)
class StatusRequestAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("certificate", "kind", "status", "requested_at", "decided_at")
    list_filter = ("kind", "status")
    inlines = [StatusRequestEventInline]


@admin.register(CertificateReport)
class CertificateReportAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ("plan", "status", "submitted_at", "received_at")
    list_filter = ("status",)


@admin.register(NationalExport)
class NationalExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("period_from", "period_to", "rows", "created_at")


@admin.register(VerificationLog)
class VerificationLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "channel", "answer", "certificate")
    list_filter = ("channel", "answer")
