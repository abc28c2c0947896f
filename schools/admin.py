from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from schools.models import Major, School, Student


@admin.register(School)
class SchoolAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "school_type", "uscc")
    list_filter = ("school_type", "organisation__district")
    list_select_related = ("organisation",)
    search_fields = ("organisation__name", "uscc")


@admin.register(Major)
class MajorAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "school", "training_level", "is_through_programme")
    list_filter = ("training_level", "is_through_programme")
    list_select_related = ("school__organisation",)
    search_fields = ("code", "name")


@admin.register(Student)
class StudentAdmin(SimpleHistoryAdmin):
    list_display = ("student_number", "name", "school", "major", "expected_graduation")
    list_select_related = ("school__organisation", "major")
    search_fields = ("student_number", "name", "id_number")
    raw_id_fields = ("major",)
