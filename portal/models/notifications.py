from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    """Where a notification's e-mail stands. The row is the outbox: nothing is lost with the broker."""

    NONE = "none", _("不发邮件")
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.TextField(_("标题"))  # may be portal.i18n.stored() text
    body = models.TextField(_("内容"), blank=True)  # may be portal.i18n.stored() text
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    # The e-mail outbox (portal.services.notification_emails_send): pending rows are sent by the
    # on-commit kick and by a beat job every minute, claimed by a conditional update so that no
    # e-mail leaves twice, retried with backoff, and marked failed for administrators after
    # PORTAL_EMAIL_MAX_ATTEMPTS attempts.
    email_status = models.CharField(_("邮件状态"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.NONE)
    email_attempts = models.PositiveSmallIntegerField(_("邮件发送次数"), default=0)
    email_next_at = models.DateTimeField(_("下次发送时间"), null=True, blank=True)
    email_error = models.CharField(_("邮件发送错误"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(
                fields=["email_next_at"],
                name="notification_email_due_idx",
                condition=models.Q(email_status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        from portal.i18n import shown

        return shown(self.title)
