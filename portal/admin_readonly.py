"""Admin pages for workflow records: to read, never to change.

A workflow record (an application, an event, a finding, a receipt, a directory entry) changes
only through its app's services, which check the rules and record who acted and why. The admin
shows these records with their history; it cannot add, edit or delete them. Where an
administrator must act, an admin action asks for a reason and calls the same service.
"""

from __future__ import annotations

from django.contrib import admin


class ReadOnlyAdminMixin:
    """View permission only: no add, change or delete, in the list, the form or bulk actions."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True
