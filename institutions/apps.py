from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstitutionsConfig(AppConfig):
    name = "institutions"
    verbose_name = _("评价机构备案")

    def ready(self) -> None:
        from institutions import home
        from institutions.directory_views import register_directory_menu
        from portal.access import SCHOOL_VIEWER_ROLES
        from portal.home import register_home_panel
        from portal.models import Role
        from portal.navigation import register_menu

        register_home_panel(home.filing_panel)
        register_menu(_("备案申请"), "institutions:application_list", SCHOOL_VIEWER_ROLES | {Role.EXPERT})
        register_directory_menu()
        from institutions import signals

        signals.connect()
