from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("证书")

    def ready(self) -> None:
        from portal.access import SCHOOL_VIEWER_ROLES
        from portal.navigation import register_menu

        register_menu(_("证书"), "certificates:certificate_list", SCHOOL_VIEWER_ROLES)  # records: lists per role

        from certificates import jobs

        jobs.register_job_kinds()  # issuance: the issue job and the batch ZIP job
