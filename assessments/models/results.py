"""Results of a batch (评价结果, annex §4.3): filed within 5 working days after the last day,
reviewed by the centre. Accepted results are what certificates are issued from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assessments.models.candidates import Candidate
from assessments.models.plans import EvaluationPlan
from portal.workflow import WorkflowEventBase


class ResultStatus(models.TextChoices):
    OPEN = "open", _("待报送")
    SUBMITTED = "submitted", _("已报送，待审核")
    RETURNED = "returned", _("退回修改")
    ACCEPTED = "accepted", _("审核通过")


class ResultAction(models.TextChoices):
    SUBMIT = "submit", _("报送评价结果")
    RETURN = "return", _("退回修改")
    ACCEPT = "accept", _("审核通过")
    MARK_OVERDUE = "mark_overdue", _("标记逾期")


class ResultFiling(models.Model):
    plan = models.OneToOneField(EvaluationPlan, on_delete=models.PROTECT, related_name="results")
    status = models.CharField(
        _("状态"), max_length=20, choices=ResultStatus.choices, default=ResultStatus.OPEN, db_index=True
    )
    round = models.PositiveSmallIntegerField(_("报送轮次"), default=0)
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    # Set once the due day has passed unfiled; never cleared, so a late filing stays visibly late.
    overdue_since = models.DateField(_("逾期日期"), null=True, blank=True, db_index=True)
    late = models.BooleanField(_("逾期报送"), default=False)
    accepted_at = models.DateTimeField(_("审核通过时间"), null=True, blank=True)
    internal_report = models.TextField(_("内部质量督导报告"), blank=True)
    internal_report_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    internal_report_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("评价结果报送")
        verbose_name_plural = _("评价结果报送")

    def __str__(self) -> str:
        return f"results {self.plan_id}"


class ResultEvent(WorkflowEventBase):
    filing = models.ForeignKey(ResultFiling, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=40, choices=ResultAction.choices)
    from_status = models.CharField(_("原状态"), max_length=20, choices=ResultStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=ResultStatus.choices)
    round = models.PositiveSmallIntegerField(_("轮次"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta(WorkflowEventBase.Meta):
        verbose_name = _("评价结果办理记录")
        verbose_name_plural = _("评价结果办理记录")


class Score(models.Model):
    """One candidate's mark for one part: ``theory``, ``practical`` or a process module's code."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="scores")
    part = models.CharField(_("考核内容"), max_length=20)
    value = models.DecimalField(_("成绩"), max_digits=5, decimal_places=1)
    # The course exam score stands in for the theory exam (plan.theory_by_course_score).
    substituted = models.BooleanField(_("以课程成绩替代"), default=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(_("录入时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["candidate_id", "part"]
        verbose_name = _("成绩")
        verbose_name_plural = _("成绩")
        constraints = [models.UniqueConstraint(fields=["candidate", "part"], name="one_score_per_part")]

    def __str__(self) -> str:
        return f"{self.candidate_id} {self.part} {self.value}"


class DeadlineReminder(models.Model):
    """A deadline notice already sent for a batch: the beat job never sends one twice."""

    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="deadline_reminders")
    kind = models.CharField(max_length=20)  # "before", "due", "overdue"
    due_on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind", "due_on"], name="one_deadline_reminder_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.kind} {self.due_on}"
