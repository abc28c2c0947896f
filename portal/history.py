"""Audit trail for record pages: who changed what, when and why (django-simple-history)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from portal.i18n import shown

ACTIONS = {"+": _("创建"), "~": _("修改"), "-": _("删除")}
HIDDEN_FIELDS = {"id", "password", "last_login"}


@dataclass
class HistoryRow:
    when: object
    who: str
    action: str
    reason: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)


def _display(record, field_name: str, value) -> str:
    model_field = record.instance_type._meta.get_field(field_name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, dt.datetime):
        return localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def history_rows(obj, limit: int = 50) -> list[HistoryRow]:
    """Newest first; each modification lists the fields it changed with old and new values."""
    records = list(obj.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1])
    rows = []
    for index, rec in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None and rec.history_type == "~":
            delta = rec.diff_against(previous, foreign_keys_are_objs=False)
            for change in delta.changes:
                if change.field in HIDDEN_FIELDS:
                    continue
                label = str(rec.instance_type._meta.get_field(change.field).verbose_name)
                changes.append(
                    (label, _display(rec, change.field, change.old), _display(rec, change.field, change.new))
                )
        who = str(rec.history_user) if rec.history_user_id else str(_("系统"))
        rows.append(
            HistoryRow(
                rec.history_date, who, str(ACTIONS.get(rec.history_type, "")), shown(rec.history_change_reason), changes
            )
        )
    return rows
