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


class SubsidyHolder(models.Model):
    """One valid certificate of a student graduating in ``school_year`` (毕业学年): the subsidy list
    (职业技能提升补贴) materialised by the daily statistics refresh, so a page of a year of the city
    reads an index instead of joining a million certificates to their students. The school and
    district are those of the certificate's institution; the page reads the certificate itself."""

    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    school_year = models.PositiveSmallIntegerField(_("毕业学年"))
    district_code = models.CharField(_("区划代码"), max_length=6, null=True)
    school = models.ForeignKey(
        "schools.School", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    occupation = models.ForeignKey(
        "portal.Occupation", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    level = models.PositiveSmallIntegerField(_("等级"))
    student_number = models.CharField(_("学号"), max_length=30)
    number = models.CharField(_("证书编号"), max_length=22)

    class Meta:
        verbose_name = _("补贴申领名单")
        verbose_name_plural = _("补贴申领名单")
        indexes = [
            # The list's order (district, school, student number, certificate number) within a year.
            models.Index(
                fields=["school_year", "district_code", "school", "student_number", "number"],
                name="subsidy_holder_order_idx",
            ),
            models.Index(fields=["school", "school_year"], name="subsidy_holder_school_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.school_year}: {self.number}"
