"""External quality supervision (外部质量督导, annex §2.4 and §4.2) of a batch."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assessments.models.plans import EvaluationPlan


class SupervisingBody(models.TextChoices):
    """Annex §4.2: 接受市、区人力资源社会保障部门的外部质量督导. The municipal bureau acts itself
    or through its appraisal centre; the district bureau for its district's schools."""

    CENTRE = "centre", _("市职鉴中心")
    MUNICIPAL_HR = "municipal_hr", _("市人社局")
    DISTRICT = "district", _("区人社局")


class SupervisionAssignment(models.Model):
    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="supervisions")
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervisions", verbose_name=_("督导员")
    )
    body = models.CharField(_("派出单位"), max_length=20, choices=SupervisingBody.choices)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    report = models.TextField(_("督导报告"), blank=True)
    report_filed_at = models.DateTimeField(_("报告提交时间"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "id"]
        verbose_name = _("外部质量督导安排")
        verbose_name_plural = _("外部质量督导安排")
        constraints = [models.UniqueConstraint(fields=["plan", "supervisor"], name="one_assignment_per_supervisor")]

    def __str__(self) -> str:
        return f"{self.supervisor} @ {self.plan_id}"


class SupervisionVisit(models.Model):
    assignment = models.ForeignKey(SupervisionAssignment, on_delete=models.CASCADE, related_name="visits")
    visited_at = models.DateTimeField(_("督导时间"))
    notes = models.TextField(_("督导记录"))
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["visited_at", "id"]
        verbose_name = _("督导记录")
        verbose_name_plural = _("督导记录")

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.visited_at:%Y-%m-%d}"


class FindingKind(models.TextChoices):
    IRREGULARITY = "irregularity", _("违规问题")
    REQUIRED_FIX = "required_fix", _("整改要求")


class SupervisionFinding(models.Model):
    assignment = models.ForeignKey(SupervisionAssignment, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("类型"), max_length=20, choices=FindingKind.choices)
    description = models.TextField(_("情况描述"))
    created_at = models.DateTimeField(auto_now_add=True)
    # The school's answer to a required fix.
    answer = models.TextField(_("学校整改答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("督导发现")
        verbose_name_plural = _("督导发现")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class FindingEvidence(models.Model):
    finding = models.ForeignKey(SupervisionFinding, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(_("证据文件"), upload_to="supervision/%Y/%m/")
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=60)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("督导证据")
        verbose_name_plural = _("督导证据")

    def __str__(self) -> str:
        return self.original_name
