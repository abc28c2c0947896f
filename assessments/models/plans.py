"""Evaluation plans: assessment batches (评价计划, notice annex §4.1): planned per filed occupation and level, filed
with the appraisal centre before the batch, accepted or returned. Only ``assessments.services``
assigns a status.

Rooms and staff (``staffing``), candidates (``candidates``), results (``results``) and external
supervision (``supervision``) hang off the plan.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.workflow import WorkflowEventBase
from schools.models import Level


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已报备，待市职鉴中心审核")
    RETURNED = "returned", _("退回修改")
    ACCEPTED = "accepted", _("已备案")
    WITHDRAWN = "withdrawn", _("已撤回")
    # A change to an accepted plan (staff, rooms, dates, candidates): the accepted version stays
    # in force until the centre accepts the change, which is filed again (round + 1).
    AMENDING = "amending", _("变更中（已备案版本仍有效）")


class PlanAction(models.TextChoices):
    SUBMIT = "submit", _("报市职鉴中心备案")
    WITHDRAW = "withdraw", _("撤回评价计划")
    RETURN = "return", _("退回修改")
    ACCEPT = "accept", _("备案通过")
    AMEND = "amend", _("变更已备案的计划")


class AssessmentMethod(models.TextChoices):
    """Annex §2.2: result assessment (theory + practical) or process assessment (课证融通)."""

    RESULT = "result", _("结果考核（理论考试＋实操考核）")
    PROCESS = "process", _("过程考核（课证融通）")


class EvaluationPlan(models.Model):
    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, related_name="plans", verbose_name=_("评价机构")
    )
    occupation = models.ForeignKey(
        "institutions.InstitutionOccupation",
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("职业（工种）"),
    )
    level = models.PositiveSmallIntegerField(_("等级"), choices=Level.choices)
    site = models.ForeignKey(
        "institutions.AssessmentSite", on_delete=models.PROTECT, related_name="plans", verbose_name=_("考核站点")
    )
    method = models.CharField(_("评价方式"), max_length=20, choices=AssessmentMethod.choices)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(
        _("状态"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT, db_index=True
    )
    # Result assessment: the theory exam may be replaced by the candidate's course exam score.
    theory_by_course_score = models.BooleanField(_("理论考试可用课程考试成绩替代"), default=False)
    # 5 working days after the last day (portal.working_days); null with ``due_unknown_year``
    # set while the calendar for that year is not published. Kept by services.results_due_refresh.
    results_due_on = models.DateField(_("评价结果报送截止日"), null=True, blank=True, db_index=True)
    due_unknown_year = models.PositiveSmallIntegerField(_("未发布的工作日历年份"), null=True, blank=True)
    round = models.PositiveSmallIntegerField(_("报备轮次"), default=0)
    submitted_at = models.DateTimeField(_("报备时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("评价计划")
        verbose_name_plural = _("评价计划")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="plan_ends_after_it_starts"),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=5), name="plan_level_is_a_level"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} · {self.occupation.occupation} · {self.get_level_display()} #{self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status in {PlanStatus.DRAFT, PlanStatus.RETURNED, PlanStatus.AMENDING}

    @property
    def was_accepted(self) -> bool:
        """Held under an accepted version: accepted now, or being changed after acceptance."""
        return self.status == PlanStatus.ACCEPTED or (
            self.status in {PlanStatus.AMENDING, PlanStatus.SUBMITTED, PlanStatus.RETURNED}
            and self.snapshots.filter(accepted_at__isnull=False).exists()
        )


class PlanModule(models.Model):
    """Process assessment (课证融通): a course module mapped to an assessment module."""

    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="modules")
    code = models.CharField(_("考核模块代码"), max_length=20)
    name = models.CharField(_("考核模块"), max_length=100)
    course = models.CharField(_("对应课程模块"), max_length=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan_id", "code"]
        verbose_name = _("考核模块")
        verbose_name_plural = _("考核模块")
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="one_module_code_per_plan")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PlanSnapshot(models.Model):
    """What was filed in one round (dates, rooms, staff, candidates) as JSON, so the centre sees
    what a change to an accepted plan changed. ``accepted_at`` marks the versions it accepted."""

    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="snapshots")
    round = models.PositiveSmallIntegerField(_("报备轮次"))
    data = models.JSONField(_("报备内容"))
    taken_at = models.DateTimeField(_("报备时间"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("备案时间"), null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "round"]
        constraints = [models.UniqueConstraint(fields=["plan", "round"], name="one_snapshot_per_round")]

    def __str__(self) -> str:
        return f"{self.plan_id} r{self.round}"


class PlanEvent(WorkflowEventBase):
    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=40, choices=PlanAction.choices)
    from_status = models.CharField(_("原状态"), max_length=20, choices=PlanStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=PlanStatus.choices)
    round = models.PositiveSmallIntegerField(_("轮次"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(WorkflowEventBase.Meta):
        verbose_name = _("评价计划办理记录")
        verbose_name_plural = _("评价计划办理记录")

    def __str__(self) -> str:
        return f"{self.plan_id} {self.action} → {self.to_status}"
