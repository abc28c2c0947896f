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
class HomePanel:
    title: str
    items: list[HomeItem] = field(default_factory=list)
    empty_text: str = ""
    more_url: str = ""
    order: int = 100


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

    unread = list(user.notifications.filter(read_at__isnull=True).order_by("-created_at")[:5])
    items = [
        HomeItem(n.title, reverse("notification_list"), meta=localtime(n.created_at).strftime("%m-%d %H:%M"))
        for n in unread
    ]
    return HomePanel(
        _("未读通知"), items, empty_text=_("没有未读通知。"), more_url=reverse("notification_list"), order=90
    )
