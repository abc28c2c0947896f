from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from portal.i18n import shown
from portal.models import (
    CalendarDay,
    CalendarYear,
    District,
    Job,
    Notification,
    Occupation,
    Organisation,
    User,
    UserRole,
)


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 1


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    list_display = ("username", "full_name", "organisation", "is_active", "last_login")
    list_filter = ("organisation__kind", "is_active", "roles__role")
    search_fields = ("username", "full_name", "organisation__name", "email")
    list_select_related = ("organisation",)
    inlines = [UserRoleInline]
    fieldsets = BaseUserAdmin.fieldsets + ((_("机构"), {"fields": ("organisation", "full_name", "phone")}),)


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "district", "is_active")
    list_filter = ("kind", "district")
    search_fields = ("name", "short_name")


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


@admin.register(Occupation)
class OccupationAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "work_type", "kind", "is_access_type", "national_standard", "is_active")
    list_filter = ("kind", "is_access_type", "major_group", "is_active")
    search_fields = ("code", "name", "work_type")


@admin.register(CalendarYear)
class CalendarYearAdmin(SimpleHistoryAdmin):
    list_display = ("year", "source")


@admin.register(CalendarDay)
class CalendarDayAdmin(SimpleHistoryAdmin):
    """Administrators add holidays and make-up workdays for years chinesecalendar does not know."""

    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)
    date_hierarchy = "date"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "created_by", "status", "progress", "total", "attempts", "created_at", "heartbeat_at")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in Job._meta.fields]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("shown_title", "recipient", "created_at", "read_at", "email_status", "email_attempts")
    list_display_links = ("shown_title",)
    list_filter = ("email_status",)
    readonly_fields = ("shown_error",)
    list_select_related = ("recipient",)

    @admin.display(description=_("标题"))
    def shown_title(self, obj: Notification) -> str:
        return shown(obj.title)

    @admin.display(description=_("邮件发送错误"))
    def shown_error(self, obj: Notification) -> str:
        return shown(obj.email_error)
