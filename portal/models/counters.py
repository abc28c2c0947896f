from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Counter(models.Model):
    """The last official number issued under one key (e.g. ``receipt:2026``).

    Only ``portal.numbering.next_number`` changes a row: one statement that creates or
    increments it and returns the new value, inside the caller's transaction. The row stays
    locked until that transaction ends, so concurrent issuers under the same key queue; a
    rollback undoes the increment, so numbers are gapless and never reused.
    """

    key = models.CharField(_("计数键"), max_length=80, unique=True)
    value = models.PositiveBigIntegerField(_("当前值"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("编号计数器")
        verbose_name_plural = _("编号计数器")

    def __str__(self) -> str:
        return f"{self.key} = {self.value}"
