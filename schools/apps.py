from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = _("学校与学籍")

    def ready(self) -> None:
        from portal.access import SCHOOL_VIEWER_ROLES
        from portal.home import register_home_panel
        from portal.navigation import register_menu
        from schools import excel, home

        excel.register_job_kinds()
        register_home_panel(home.school_overview_panel)
        register_menu(_("学校与学籍"), "schools:school_list", SCHOOL_VIEWER_ROLES)
