"""Rooms and staff of a batch (annex §4.1: 考场及监考人员、考评人员、内部质量督导人员) and the
staffing rules they are checked against, stored per occupation standard."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assessments.models.plans import EvaluationPlan


class StaffingStandard(models.Model):
    """Staffing and pass rules of one occupation's standard; the row without an occupation holds
    the common rules (DOMAIN.md, "Rules of thumb from occupation standards"). Editable by the centre."""

    occupation = models.OneToOneField(
        "portal.Occupation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staffing_standard",
        verbose_name=_("职业（工种）"),
    )
    theory_candidates_per_invigilator = models.PositiveSmallIntegerField(
        _("理论考场每名监考人员对应考生数"), default=15
    )
    theory_min_invigilators = models.PositiveSmallIntegerField(_("理论考场最少监考人员数"), default=2)
    practical_candidates_per_examiner = models.PositiveSmallIntegerField(_("实操考场每名考评人员对应考生数"), default=5)
    practical_min_examiners = models.PositiveSmallIntegerField(_("实操考场最少考评人员数"), default=3)
    practical_examiners_odd = models.BooleanField(_("实操考评人员须为奇数"), default=True)
    full_mark = models.PositiveSmallIntegerField(_("满分"), default=100)
    pass_mark = models.PositiveSmallIntegerField(_("合格分数线"), default=60)
    source = models.CharField(_("依据"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["occupation__code"]
        verbose_name = _("考务配置标准")
        verbose_name_plural = _("考务配置标准")
        constraints = [
            models.UniqueConstraint(
                fields=["occupation"], condition=Q(occupation__isnull=True), name="one_common_staffing_standard"
            ),
            models.CheckConstraint(
                condition=Q(
                    theory_candidates_per_invigilator__gte=1,
                    practical_candidates_per_examiner__gte=1,
                    pass_mark__lte=F("full_mark"),
                ),
                name="staffing_standard_sane",
            ),
        ]

    def __str__(self) -> str:
        return str(self.occupation) if self.occupation_id else str(_("通用规则"))


class RoomPart(models.TextChoices):
    THEORY = "theory", _("理论考试")
    PRACTICAL = "practical", _("实操考核")
    MODULE = "module", _("过程考核模块")


class BatchRoom(models.Model):
    """One filed exam room used by a batch for one part, at set times."""

    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="rooms")
    room = models.ForeignKey(
        "institutions.ExamRoom", on_delete=models.PROTECT, related_name="batch_uses", verbose_name=_("考场")
    )
    part = models.CharField(_("考核内容"), max_length=20, choices=RoomPart.choices)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    candidates_expected = models.PositiveSmallIntegerField(_("安排考生数"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "starts_at", "id"]
        verbose_name = _("批次考场")
        verbose_name_plural = _("批次考场")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="batch_room_ends_after_start"),
            models.UniqueConstraint(fields=["plan", "room", "starts_at"], name="one_room_sitting_per_time"),
        ]

    def __str__(self) -> str:
        return f"{self.room.name} · {self.get_part_display()}"


class Duty(models.TextChoices):
    INVIGILATOR = "invigilator", _("监考人员")
    EXAMINER = "examiner", _("考评人员")
    INTERNAL_SUPERVISOR = "internal_supervisor", _("内部质量督导人员")


class BatchStaff(models.Model):
    """A person's duty in one batch: the row is their access to that batch, and to nothing else."""

    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="staff")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="batch_duties", verbose_name=_("人员")
    )
    duty = models.CharField(_("职责"), max_length=30, choices=Duty.choices)
    room = models.ForeignKey(
        BatchRoom, on_delete=models.CASCADE, null=True, blank=True, related_name="staff", verbose_name=_("考场")
    )
    invited = models.BooleanField(_("外聘"), default=False)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "duty", "id"]
        verbose_name = _("批次考务人员")
        verbose_name_plural = _("批次考务人员")
        constraints = [
            models.UniqueConstraint(fields=["plan", "person", "duty", "room"], name="one_duty_per_person_room"),
            models.CheckConstraint(
                condition=Q(duty="internal_supervisor") | Q(room__isnull=False), name="room_duties_have_a_room"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_duty_display()}"


class ConflictDeclaration(models.Model):
    """An examiner's declared conflict of interest with a student (回避): never their examiner."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="conflicts")
    student = models.ForeignKey("schools.Student", on_delete=models.CASCADE, related_name="conflicts")
    reason = models.CharField(_("回避理由"), max_length=200)
    declared_at = models.DateTimeField(_("申报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("回避申报")
        verbose_name_plural = _("回避申报")
        constraints = [models.UniqueConstraint(fields=["person", "student"], name="one_conflict_per_pair")]

    def __str__(self) -> str:
        return f"{self.person_id} ≠ {self.student_id}"


class BarredKind(models.TextChoices):
    CANDIDATE = "candidate", _("禁止参加评价")
    STAFF = "staff", _("禁止从事考务工作")


class Barring(models.Model):
    """A person barred from sitting (by ID number) or from batch duties (by account), for a period.
    Set by oversight's violation cases (annex §2.4.3); batches only read it."""

    kind = models.CharField(_("类型"), max_length=20, choices=BarredKind.choices)
    id_number = models.CharField(_("证件号码"), max_length=30, blank=True, db_index=True)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="barrings"
    )
    starts_on = models.DateField(_("起始日期"))
    ends_on = models.DateField(_("截止日期"), null=True, blank=True)
    reason = models.TextField(_("原因"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("禁入记录")
        verbose_name_plural = _("禁入记录")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="candidate") & ~Q(id_number="")) | (Q(kind="staff") & Q(person__isnull=False)),
                name="barring_names_its_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.id_number or self.person_id}"
