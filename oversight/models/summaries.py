"""Materialised summaries for dashboards and statistics at city scale, refreshed by Celery beat.

One row per (name, scope): ``data`` is whatever the named selector computed; ``computed_at`` is the
as-of time each page states. A page reads the row (one query) and falls back to computing live
when the row is missing.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Summary(models.Model):
    name = models.CharField(_("名称"), max_length=60)
    scope = models.CharField(_("范围"), max_length=60, blank=True)  # "" = city; "district:310104"; "school:12"
    data = models.JSONField(default=dict)
    computed_at = models.DateTimeField(_("统计时间"))

    class Meta:
        verbose_name = _("统计汇总")
        verbose_name_plural = _("统计汇总")
        constraints = [models.UniqueConstraint(fields=["name", "scope"], name="one_summary_per_name_scope")]

    def __str__(self) -> str:
        return f"{self.name}[{self.scope}]"
