"""The main menu. Each entry names the roles it is for; the views check the same roles."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.access import CITYWIDE_ROLES
from portal.models import Role


@dataclass(frozen=True)
class MenuEntry:
    label: str
    url_name: str
    roles: frozenset[str] | None  # None: every logged-in user


MENU: list[MenuEntry] = []


def register_menu(label, url_name: str, roles=None) -> None:
    MENU.append(MenuEntry(label, url_name, frozenset(roles) if roles is not None else None))


def menu_for(user) -> list[dict]:
    items = []
    for entry in MENU:
        if entry.roles is None or user.is_superuser or user.has_role(*entry.roles):
            items.append({"label": entry.label, "url": reverse(entry.url_name), "url_name": entry.url_name})
    return items


register_menu(_("工作台"), "home")
register_menu(_("职业（工种）目录"), "occupation_list", CITYWIDE_ROLES | {Role.SCHOOL_STAFF, Role.DISTRICT_HR_OFFICER})
register_menu(_("工作日历"), "calendar", CITYWIDE_ROLES | {Role.SCHOOL_STAFF, Role.DISTRICT_HR_OFFICER})
