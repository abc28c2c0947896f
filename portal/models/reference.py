"""Reference data: the occupation catalogue, the major catalogue and its correspondence, the working-day calendar."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class OccupationKind(models.TextChoices):
    SKILL = "skill", _("技能类")
    PROFESSIONAL = "professional", _("专业技术类")


class Occupation(models.Model):
    """An occupation (职业) or work type (工种) of the 2022 edition of the 职业分类大典."""

    code = models.CharField(_("职业编码"), max_length=16, db_index=True)
    name = models.CharField(_("职业名称"), max_length=80)
    work_type = models.CharField(_("工种/职业方向"), max_length=80, blank=True)
    major_group = models.PositiveSmallIntegerField(_("大类"))
    kind = models.CharField(_("类别"), max_length=20, choices=OccupationKind.choices)
    is_access_type = models.BooleanField(_("准入类职业资格"), default=False)
    national_standard = models.CharField(_("国家职业技能标准"), max_length=200, blank=True)
    standard_year = models.PositiveSmallIntegerField(_("标准版本年份"), null=True, blank=True)
    source = models.TextField(_("数据来源"), blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code", "work_type"]
        verbose_name = _("职业（工种）")
        verbose_name_plural = _("职业（工种）")
        constraints = [
            models.UniqueConstraint(fields=["code", "work_type"], name="unique_occupation_code_work_type"),
        ]

    def __str__(self) -> str:
        label = f"{self.code} {self.name}"
        return f"{label}（{self.work_type}）" if self.work_type else label

    @property
    def is_assessable(self) -> bool:
        """Annex §1.3(1): only skill occupations, never access-type qualifications."""
        return self.is_active and self.kind == OccupationKind.SKILL and not self.is_access_type

    @property
    def has_national_standard(self) -> bool:
        return bool(self.national_standard)


class CalendarYear(models.Model):
    """A year whose holidays and make-up workdays are known.

    Working-day arithmetic refuses dates in a year that is not listed here rather than guess.
    """

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    source = models.CharField(_("来源"), max_length=120)
    history = HistoricalRecords()

    class Meta:
        ordering = ["year"]
        verbose_name = _("工作日历年度")
        verbose_name_plural = _("工作日历年度")

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: a statutory holiday on a weekday, or a make-up workday."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("说明"), max_length=40, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日/调休日")
        verbose_name_plural = _("节假日/调休日")

    def __str__(self) -> str:
        return f"{self.date} {'调休上班' if self.is_workday else '法定节假日'} {self.name}".strip()


class MajorLevel(models.TextChoices):
    """Levels of the 职业教育专业目录（2021年）; the same values as schools.TrainingLevel."""

    SECONDARY = "secondary", _("中职")
    HIGHER = "higher", _("高职专科")
    UNDERGRADUATE = "undergraduate", _("职业本科")


class CatalogueMajor(models.Model):
    """A major (专业) of the 职业教育专业目录（2021年）, by its six-digit code.

    A school's major (schools.Major) names its catalogue major by the same code.
    """

    code = models.CharField(_("专业代码"), max_length=12, unique=True)
    name = models.CharField(_("专业名称"), max_length=80)
    level = models.CharField(_("培养层次"), max_length=20, choices=MajorLevel.choices)
    category = models.CharField(_("专业大类"), max_length=40)
    major_class = models.CharField(_("专业类"), max_length=40)
    source = models.TextField(_("数据来源"), blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("专业目录专业")
        verbose_name_plural = _("专业目录专业")

    def __str__(self) -> str:
        return f"{self.code} {self.name}（{self.get_level_display()}）"


class MajorOccupation(models.Model):
    """A catalogue major corresponds to an occupation (院校设有与评价项目相对应的专业, annex §1.3).

    Keyed by the occupation's code (职业, 细类), so it holds for every work type of that occupation.
    """

    major = models.ForeignKey(
        CatalogueMajor, on_delete=models.CASCADE, related_name="occupations", verbose_name=_("专业")
    )
    occupation_code = models.CharField(_("职业编码"), max_length=16, db_index=True)
    source = models.TextField(_("数据来源"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["major__code", "occupation_code"]
        verbose_name = _("专业与职业对应关系")
        verbose_name_plural = _("专业与职业对应关系")
        constraints = [
            models.UniqueConstraint(fields=["major", "occupation_code"], name="unique_major_occupation"),
        ]

    def __str__(self) -> str:
        return f"{self.major.code} ↔ {self.occupation_code}"
