"""Home-page panels: what waits for each user.

Apps register panel builders (usually in ``AppConfig.ready``); the portal never imports a
later app. A builder returns None when its panel does not concern the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class HomeItem:
    label: str
    url: str = ""
    meta: str = ""
    badge: str = ""


@dataclass
class HomeFigure:
    """One number of a role's dashboard, linked to the list it counts (``url``)."""

    label: str
    value: str
    url: str = ""
    hint: str = ""
    tone: str = ""  # "", "warning", "danger" or "success": how the number reads at a glance
    group: str = ""  # a heading over the figures that share it (a dashboard of many queues)


@dataclass
class HomePanel:
    title: str
    items: list[HomeItem] = field(default_factory=list)
    empty_text: str = ""
    more_url: str = ""
    order: int = 100
    figures: list[HomeFigure] = field(default_factory=list)  # a dashboard panel: full width, one tile each
    note: str = ""


PanelBuilder = Callable[[object], HomePanel | None]
HOME_PANELS: list[PanelBuilder] = []


def register_home_panel(builder: PanelBuilder) -> None:
    if builder not in HOME_PANELS:
        HOME_PANELS.append(builder)


def panels_for(user) -> list[HomePanel]:
    panels = [p for p in (build(user) for build in HOME_PANELS) if p is not None]
    return sorted(panels, key=lambda p: p.order)


def unread_notifications_panel(user) -> HomePanel | None:
    from django.urls import reverse
    from django.utils.timezone import localtime
    from django.utils.translation import gettext as _

    from portal.i18n import shown

    unread = list(user.notifications.filter(read_at__isnull=True).order_by("-created_at")[:5])
    items = [
        HomeItem(shown(n.title), reverse("notification_list"), meta=localtime(n.created_at).strftime("%m-%d %H:%M"))
        for n in unread
    ]
    return HomePanel(
        _("未读通知"), items, empty_text=_("没有未读通知。"), more_url=reverse("notification_list"), order=90
    )


def failed_emails_panel(user) -> HomePanel | None:
    """System administrators see e-mails the outbox gave up on (portal.services.notification_emails_send)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from portal.i18n import shown
    from portal.models import EmailStatus, Notification, Role

    if not (user.is_superuser or user.has_role(Role.SYSTEM_ADMIN)):
        return None
    failed = Notification.objects.filter(email_status=EmailStatus.FAILED)
    count = failed.count()
    if not count:
        return None
    url = reverse("admin:portal_notification_changelist") + f"?email_status__exact={EmailStatus.FAILED}"
    latest = failed.select_related("recipient").order_by("-created_at")[:5]
    items = [HomeItem(f"{n.recipient} · {shown(n.title)}", url, meta=shown(n.email_error)) for n in latest]
    return HomePanel(_("邮件发送失败（%(n)s 封）") % {"n": count}, items, more_url=url, order=5)
