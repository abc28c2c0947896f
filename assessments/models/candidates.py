"""Candidates of a batch (annex §1.2 and DOMAIN.md "Who may be a candidate")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assessments.models.plans import EvaluationPlan


class CandidateOpening(models.Model):
    """Annex §1.2: a well-run institution opened to graduating-year students of related majors at
    another school: decided by the centre with the commission's department, from a date."""

    institution = models.ForeignKey("institutions.Institution", on_delete=models.PROTECT, related_name="openings")
    school = models.ForeignKey(
        "schools.School", on_delete=models.PROTECT, related_name="openings", verbose_name=_("开放对象学校")
    )
    decided_on = models.DateField(_("决定日期"))
    reference = models.CharField(_("决定文号"), max_length=100)
    centre_officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    commission_dept_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_on = models.DateField(_("终止日期"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_on"]
        verbose_name = _("面向外校开放")
        verbose_name_plural = _("面向外校开放")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "school"], condition=Q(ended_on__isnull=True), name="one_open_opening"
            )
        ]

    def __str__(self) -> str:
        return f"{self.institution_id} → {self.school_id} ({self.decided_on})"


class Attendance(models.TextChoices):
    EXPECTED = "expected", _("待考")
    PRESENT = "present", _("出席")
    ABSENT = "absent", _("缺考")
    CANCELLED = "cancelled", _("取消资格")


class Outcome(models.TextChoices):
    PENDING = "", _("未评定")
    PASSED = "passed", _("合格")
    FAILED = "failed", _("不合格")
    ABSENT = "absent", _("缺考")
    CANCELLED = "cancelled", _("取消资格")
    VOIDED = "voided", _("成绩无效（违规处理）")


class Candidate(models.Model):
    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="candidates")
    student = models.ForeignKey(
        "schools.Student", on_delete=models.PROTECT, related_name="candidacies", verbose_name=_("学生")
    )
    # Denormalised from the plan so "one open candidacy per occupation and level" is a DB rule too.
    occupation = models.ForeignKey("portal.Occupation", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(_("等级"))
    added_round = models.PositiveSmallIntegerField(_("加入轮次"), default=0)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    # Result assessment with substitution: the course exam score that replaces the theory exam.
    course_score = models.DecimalField(_("课程考试成绩"), max_digits=5, decimal_places=1, null=True, blank=True)
    attendance = models.CharField(_("考试情况"), max_length=20, choices=Attendance.choices, default=Attendance.EXPECTED)
    attendance_reason = models.CharField(_("说明"), max_length=200, blank=True)
    outcome = models.CharField(_("评价结果"), max_length=20, choices=Outcome.choices, blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "student__student_number"]
        verbose_name = _("考生")
        verbose_name_plural = _("考生")
        constraints = [models.UniqueConstraint(fields=["plan", "student"], name="one_candidacy_per_batch")]
        indexes = [models.Index(fields=["student", "occupation", "level"], name="candidate_person_scope_idx")]

    def __str__(self) -> str:
        return f"{self.student} @ {self.plan_id}"
