"""Display helpers for the filing workflow pages."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from institutions.models import ApplicationStatus

register = template.Library()

S = ApplicationStatus
STATUS_STYLES = {
    S.DRAFT: "secondary",
    S.SUBMITTED: "primary",
    S.RETURNED: "warning",
    S.UNDER_EVALUATION: "info",
    S.EVALUATION_FAILED: "danger",
    S.AWAITING_CONSENT: "info",
    S.REFUSED: "danger",
    S.CONSENTED: "primary",
    S.FILED: "success",
    S.WITHDRAWN: "light",
}


@register.simple_tag
def status_badge(application) -> str:
    style = STATUS_STYLES.get(application.status, "secondary")
    return format_html(
        '<span class="badge text-bg-{} border" data-status="{}">{}</span>',
        style,
        application.status,
        application.get_status_display(),
    )


@register.filter
def action_label(action: str) -> str:
    from institutions.services import TRANSITIONS

    if action in TRANSITIONS:
        return str(TRANSITIONS[action].label)
    return action


@register.filter
def status_label(status: str) -> str:
    return str(S(status).label) if status in S.values else status


@register.filter
def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"
