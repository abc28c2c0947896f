from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("评价计划与实施")

    def ready(self) -> None:
        from portal.access import SCHOOL_VIEWER_ROLES
        from portal.models import Role
        from portal.navigation import register_menu

        register_menu(
            _("评价计划"), "assessments:plan_list", SCHOOL_VIEWER_ROLES | {Role.EXPERT, Role.QUALITY_SUPERVISOR}
        )
