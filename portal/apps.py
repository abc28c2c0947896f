from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("平台")

    def ready(self) -> None:
        from portal import imports, signals

        signals.replace_update_last_login()

        imports.register_job_kinds()
        from portal.home import failed_emails_panel, register_home_panel, unread_notifications_panel

        register_home_panel(unread_notifications_panel)
        register_home_panel(failed_emails_panel)
        from portal.sysdeps import home_panel as system_packages_panel

        register_home_panel(system_packages_panel)  # system administrators: PDFs' packages missing
