"""Coverage of majors (notice 一(二): "职业学校毕业学年学生可参加职业技能等级认定的专业覆盖率达80%").

A major with graduating-year students is covered in a school year when its students can obtain a
skill-level certificate through any channel (main text 二(一)3): an in-school institution's filed
occupation in force that corresponds to the major, or an evaluation by a social evaluation
organisation, an employer or a skills competition, recorded here with its evidence.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class CoverageChannel(models.TextChoices):
    IN_SCHOOL = "in_school", _("本校评价机构")
    SOCIAL_ORG = "social_org", _("社会培训评价组织")
    EMPLOYER = "employer", _("用人单位")
    COMPETITION = "competition", _("职业技能竞赛")


class ExternalEvaluation(models.Model):
    """A channel outside the school's own institution through which a major's students may be
    certified in one school year. Never deleted: withdrawn with who, when and why."""

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+", verbose_name=_("学校"))
    major = models.ForeignKey("schools.Major", on_delete=models.PROTECT, related_name="+", verbose_name=_("专业"))
    school_year = models.PositiveSmallIntegerField(_("学年（起始年份）"))
    channel = models.CharField(
        _("评价渠道"),
        max_length=20,
        choices=[(v, label) for v, label in CoverageChannel.choices if v != CoverageChannel.IN_SCHOOL],
    )
    provider = models.CharField(_("评价组织或赛事名称"), max_length=200)
    occupation = models.ForeignKey(
        "portal.Occupation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("职业（工种）"),
    )
    note = models.TextField(_("说明"), blank=True)
    evidence = models.FileField(_("证明材料"), upload_to="coverage/%Y/%m/")
    evidence_name = models.CharField(_("文件名"), max_length=200)
    evidence_type = models.CharField(max_length=60)
    evidence_size = models.PositiveIntegerField(default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdraw_reason = models.TextField(_("撤销原因"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("其他渠道评价记录")
        verbose_name_plural = _("其他渠道评价记录")
        ordering = ["-school_year", "school_id", "major_id", "id"]
        indexes = [models.Index(fields=["school_year", "major"], name="external_eval_year_major_idx")]

    def __str__(self) -> str:
        return f"{self.school_year} {self.major_id} {self.get_channel_display()} {self.provider}"


class UncoveredReason(models.TextChoices):
    NO_OCCUPATION = "no_occupation", _("未备案对应职业（工种）")
    EXPIRED = "expired", _("备案已过期")
    SUSPENDED = "suspended", _("备案已暂停或移出目录")
    NO_BATCH = "no_batch", _("本学年未组织评价批次")


class MajorCoverage(models.Model):
    """Materialised: one row per major with graduating-year students per school year, as of
    ``computed_at`` (refreshed by beat and on demand). Pages read these rows, never recompute."""

    school_year = models.PositiveSmallIntegerField(_("学年（起始年份）"))
    school = models.ForeignKey("schools.School", on_delete=models.CASCADE, related_name="+")
    major = models.ForeignKey("schools.Major", on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey("portal.District", on_delete=models.PROTECT, null=True, related_name="+")
    graduating_students = models.PositiveIntegerField(_("毕业学年学生数"))
    covered = models.BooleanField(_("已覆盖"))
    channels = models.CharField(_("覆盖渠道"), max_length=100, blank=True)  # comma-separated CoverageChannel values
    reason = models.CharField(_("未覆盖原因"), max_length=20, choices=UncoveredReason.choices, blank=True)
    computed_at = models.DateTimeField(_("统计时间"))

    class Meta:
        verbose_name = _("专业覆盖情况")
        verbose_name_plural = _("专业覆盖情况")
        constraints = [models.UniqueConstraint(fields=["school_year", "major"], name="one_coverage_row_per_major_year")]
        indexes = [
            models.Index(fields=["school_year", "district"], name="coverage_year_district_idx"),
            models.Index(fields=["school_year", "school"], name="coverage_year_school_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.school_year} {self.major_id} {'✓' if self.covered else '✗'}"
