"""Schools, their majors and their students (学籍学生)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.validators import normalise_id_number, validate_resident_id_number, validate_uscc


class Level(models.IntegerChoices):
    """National skill levels; a smaller digit is a higher level."""

    LEVEL_5 = 5, _("五级/初级工")
    LEVEL_4 = 4, _("四级/中级工")
    LEVEL_3 = 3, _("三级/高级工")
    LEVEL_2 = 2, _("二级/技师")
    LEVEL_1 = 1, _("一级/高级技师")


class SchoolType(models.TextChoices):
    VOCATIONAL_UNDERGRADUATE = "vocational_undergraduate", _("职业本科")
    INDEPENDENT_HIGHER = "independent_higher", _("独立设置的高职学校")
    UNDERGRADUATE_HIGHER = "undergraduate_higher", _("本科高职学院")
    SECONDARY = "secondary", _("中等职业学校")


# Annex §1.3: the highest level each type of school may assess.
LEVEL_CAP_BY_SCHOOL_TYPE: dict[str, int] = {
    SchoolType.VOCATIONAL_UNDERGRADUATE: Level.LEVEL_3,
    SchoolType.INDEPENDENT_HIGHER: Level.LEVEL_3,
    SchoolType.UNDERGRADUATE_HIGHER: Level.LEVEL_3,
    SchoolType.SECONDARY: Level.LEVEL_4,
}


class School(models.Model):
    organisation = models.OneToOneField(
        "portal.Organisation", on_delete=models.PROTECT, related_name="school", verbose_name=_("机构")
    )
    school_type = models.CharField(_("学校类型"), max_length=30, choices=SchoolType.choices)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_uscc])
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("职业学校")
        verbose_name_plural = _("职业学校")

    def __str__(self) -> str:
        return self.organisation.name

    @property
    def name(self) -> str:
        return self.organisation.name

    @property
    def district(self):
        return self.organisation.district

    @property
    def level_cap(self) -> int:
        return LEVEL_CAP_BY_SCHOOL_TYPE[self.school_type]

    @property
    def has_through_programme(self) -> bool:
        """开设贯通培养专业: the school has an active major recorded as a through-programme.

        Derived from the majors (schools.services.through_programme_record records one with its
        approval document); a list annotated with ``through_major_count`` is answered without a query.
        """
        annotated = getattr(self, "through_major_count", None)
        if annotated is not None:
            return annotated > 0
        return self.majors.filter(is_active=True, is_through_programme=True).exists()

    @property
    def level_cap_label(self) -> str:
        return str(Level(self.level_cap).label)

    def clean(self) -> None:
        if self.uscc:
            self.uscc = self.uscc.strip().upper()


class TrainingLevel(models.TextChoices):
    SECONDARY = "secondary", _("中职")
    HIGHER = "higher", _("高职专科")
    UNDERGRADUATE = "undergraduate", _("职业本科")


# Annex §1.3 "按照教育行政部门批准的专业培养层次": the highest level a major's students may be
# assessed at follows the major's approved training level, as well as the school type.
LEVEL_CAP_BY_TRAINING_LEVEL: dict[str, int] = {
    TrainingLevel.SECONDARY: Level.LEVEL_4,
    TrainingLevel.HIGHER: Level.LEVEL_3,
    TrainingLevel.UNDERGRADUATE: Level.LEVEL_3,
}


class Major(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="majors", verbose_name=_("学校"))
    code = models.CharField(_("专业代码"), max_length=12)
    name = models.CharField(_("专业名称"), max_length=80)
    training_level = models.CharField(_("培养层次"), max_length=20, choices=TrainingLevel.choices)
    is_through_programme = models.BooleanField(_("贯通培养专业"), default=False)
    is_active = models.BooleanField(_("在办"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["school", "code"]
        verbose_name = _("专业")
        verbose_name_plural = _("专业")
        constraints = [models.UniqueConstraint(fields=["school", "code"], name="unique_major_code_per_school")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def level_cap(self) -> int:
        """The highest level for this major: its training level's cap, never above the school's."""
        return max(LEVEL_CAP_BY_TRAINING_LEVEL[self.training_level], self.school.level_cap)


class ThroughKind(models.TextChoices):
    SECONDARY_HIGHER = "secondary_higher", _("中高职贯通")
    SECONDARY_UNDERGRADUATE = "secondary_undergraduate", _("中本贯通")
    HIGHER_UNDERGRADUATE = "higher_undergraduate", _("高本贯通")


class ThroughProgramme(models.Model):
    """A major the school runs as a through-programme (贯通培养), recorded by the school itself with
    the education authority's approval document. Recording one sets ``Major.is_through_programme``;
    withdrawing it clears the flag (schools.services)."""

    major = models.OneToOneField(
        Major, on_delete=models.PROTECT, related_name="through_programme", verbose_name=_("专业")
    )
    kind = models.CharField(_("贯通类型"), max_length=30, choices=ThroughKind.choices)
    partner = models.CharField(_("合作院校"), max_length=120)
    approval_ref = models.CharField(_("批准文件文号"), max_length=80)
    file = models.FileField(_("批准文件"), upload_to="through_programmes/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=60)
    size = models.PositiveIntegerField(_("大小（字节）"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["major__code"]
        verbose_name = _("贯通培养专业")
        verbose_name_plural = _("贯通培养专业")

    def __str__(self) -> str:
        return f"{self.major} · {self.get_kind_display()}"


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    HMT_RESIDENCE = "hmt_residence", _("港澳台居民居住证")
    HK_MACAO_PERMIT = "hk_macao_permit", _("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", _("台湾居民来往大陆通行证")
    FOREIGN_PERMANENT = "foreign_permanent", _("外国人永久居留身份证")
    PASSPORT = "passport", _("护照")


# Identifiers built to GB 11643 (18 characters with its check character).
GB11643_ID_TYPES = {IdType.RESIDENT_ID, IdType.HMT_RESIDENCE}


def validate_id(id_type: str, id_number: str) -> None:
    if id_type in GB11643_ID_TYPES:
        validate_resident_id_number(id_number)
    elif not (5 <= len(id_number) <= 30 and id_number.isalnum()):
        raise ValidationError(_("证件号码应为5至30位字母或数字。"), code="format")


class ThroughStage(models.TextChoices):
    SECONDARY = "secondary", _("中职阶段")
    HIGHER = "higher", _("高职阶段")
    UNDERGRADUATE = "undergraduate", _("本科阶段")


class Student(models.Model):
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students", verbose_name=_("学校"))
    student_number = models.CharField(_("学号"), max_length=30)
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number = models.CharField(_("证件号码"), max_length=30)
    major = models.ForeignKey(Major, on_delete=models.PROTECT, related_name="students", verbose_name=_("专业"))
    enrolment_year = models.PositiveSmallIntegerField(_("入学年份"))
    expected_graduation = models.DateField(_("预计毕业时间"))
    through_stage = models.CharField(_("贯通培养阶段"), max_length=20, choices=ThroughStage.choices, blank=True)
    # DOMAIN.md: a through-programme student sits the level of a stage once that stage's teaching
    # plan is complete; the date it was (or will be) completed. Empty: not yet known.
    stage_completed_on = models.DateField(_("本阶段教学计划完成日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["school", "student_number"]
        verbose_name = _("学籍学生")
        verbose_name_plural = _("学籍学生")
        constraints = [
            models.UniqueConstraint(fields=["school", "student_number"], name="unique_student_number_per_school"),
            models.UniqueConstraint(fields=["school", "id_type", "id_number"], name="unique_student_id_per_school"),
        ]
        indexes = [models.Index(fields=["school", "expected_graduation"], name="student_graduation_idx")]

    def __str__(self) -> str:
        return f"{self.student_number} {self.name}"

    def clean(self) -> None:
        self.id_number = normalise_id_number(self.id_number)
        errors: dict[str, list] = {}
        try:
            validate_id(self.id_type, self.id_number)
        except ValidationError as exc:
            errors["id_number"] = exc.messages
        if self.major_id and self.school_id and self.major.school_id != self.school_id:
            errors["major"] = [_("专业不属于该学生所在学校。")]
        if self.expected_graduation and self.enrolment_year and self.expected_graduation.year <= self.enrolment_year:
            errors["expected_graduation"] = [_("预计毕业时间应晚于入学年份。")]
        if self.through_stage and self.major_id and not self.major.is_through_programme:
            errors["through_stage"] = [_("只有贯通培养专业的学生才填写贯通培养阶段。")]
        if errors:
            raise ValidationError(errors)

    @property
    def masked_id_number(self) -> str:
        n = self.id_number
        return n[:4] + "*" * (len(n) - 8) + n[-4:] if len(n) > 8 else n

    def is_graduating_year(self, on: dt.date | None = None) -> bool:
        """毕业学年: the school year (1 September – 31 August) in which the student graduates."""
        return academic_year_of(self.expected_graduation) == academic_year_of(on or dt.date.today())


def academic_year_of(day: dt.date) -> int:
    """The calendar year in which the school year containing ``day`` began."""
    return day.year if day.month >= 9 else day.year - 1


def graduating_year_bounds(on: dt.date) -> tuple[dt.date, dt.date]:
    start = academic_year_of(on)
    return dt.date(start, 9, 1), dt.date(start + 1, 8, 31)
