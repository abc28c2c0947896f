from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("评价计划与实施")

    def ready(self) -> None:
        import assessments.services.clock  # noqa: F401  (recomputes due dates when a calendar year is published)
        from assessments import candidate_import
        from assessments.views.staffing import ready as staffing_ready
        from assessments.views.supervision import home_panel as supervision_home_panel
        from portal.access import CITYWIDE_ROLES, SCHOOL_VIEWER_ROLES
        from portal.home import register_home_panel
        from portal.models import Role
        from portal.navigation import register_menu

        candidate_import.register_job_kinds()

        register_menu(
            _("评价计划"), "assessments:plan_list", SCHOOL_VIEWER_ROLES | {Role.EXPERT, Role.QUALITY_SUPERVISOR}
        )
        register_menu(_("逾期批次"), "assessments:overdue_list", SCHOOL_VIEWER_ROLES)
        register_menu(_("面向外校开放"), "assessments:opening_list", CITYWIDE_ROLES)
        register_home_panel(supervision_home_panel)
        staffing_ready()  # a person's batch duties on the home page; the centre's staffing standards menu
