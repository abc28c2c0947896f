from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class Job(models.Model):
    """Long work a user can leave and come back to: imports now, PDF batches and exports later."""

    kind = models.CharField(_("任务类型"), max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("发起人")
    )
    organisation = models.ForeignKey(
        "portal.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="jobs"
    )
    status = models.CharField(_("状态"), max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    stage = models.CharField(_("阶段"), max_length=300, blank=True)  # may be portal.i18n.stored() text
    params = models.JSONField(_("参数"), default=dict, blank=True)
    input_file = models.FileField(_("上传文件"), upload_to="jobs/%Y/%m/", blank=True)
    input_name = models.CharField(_("文件名"), max_length=200, blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # Resilience: when the job was last handed to the broker (None: never reached it), how many
    # times a worker claimed it, and the running worker's last sign of life. The sweep
    # (portal.services.job_sweep) re-sends pending jobs and retries or fails silent running ones.
    queued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)
    heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        indexes = [
            models.Index(
                fields=["status", "created_at"],
                name="job_unfinished_idx",
                condition=models.Q(status__in=["pending", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.progress * 100 / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}

    @property
    def last_sign_of_life(self):
        return self.heartbeat_at or self.started_at

    @property
    def is_stale(self) -> bool:
        """Running, but its worker has not reported for longer than a heartbeat allows."""
        if self.status != JobStatus.RUNNING or self.last_sign_of_life is None:
            return False
        return self.last_sign_of_life < timezone.now() - timedelta(seconds=job_stale_seconds())

    @property
    def was_interrupted(self) -> bool:
        return bool(self.result.get("interrupted")) if isinstance(self.result, dict) else False


def job_heartbeat_seconds() -> int:
    """How often a running job reports that its worker is alive."""
    return int(getattr(settings, "PORTAL_JOB_HEARTBEAT_SECONDS", 15))


def job_stale_seconds() -> int:
    """Silence after which a running job's worker is taken for dead (several missed heartbeats)."""
    return int(getattr(settings, "PORTAL_JOB_STALE_SECONDS", 120))
