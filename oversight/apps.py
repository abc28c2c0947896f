from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "oversight"
    verbose_name = _("监管")

    def ready(self) -> None:
        from oversight.views import audit, cases, complaints, coverage, dashboards, roster, statistics

        for part in (coverage, cases, complaints, roster, statistics, audit, dashboards):
            part.ready()
