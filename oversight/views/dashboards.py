"""Oversight: the role dashboards, shown at the top of the home page (the home page is the dashboard).

Each role's numbers come from ``oversight.selectors.dashboards``; each tile links to the list it
counts. No URL of its own: the home page (portal.views.home) renders the panels registered here.
"""

from __future__ import annotations

from collections.abc import Callable

from portal.home import HomeFigure, HomePanel

urlpatterns: list = []


def _panel(build: Callable, order: int) -> Callable:
    def builder(user) -> HomePanel:
        dashboard = build(user)
        figures = [
            HomeFigure(f.label, f.value, f.url, hint=f.hint, tone=f.tone, group=f.group) for f in dashboard.figures
        ]
        return HomePanel(dashboard.title, figures=figures, note=dashboard.note, order=order)

    return builder


def dashboard_panels() -> list[Callable]:
    """One home-panel builder per role's dashboard: None for a user without that role."""
    from oversight.selectors.dashboards import DASHBOARDS

    builders = []
    for i, (allowed, build) in enumerate(DASHBOARDS):
        panel = _panel(build, order=1 + i)

        def builder(user, allowed=allowed, panel=panel) -> HomePanel | None:
            if not user.is_authenticated or not allowed(user):
                return None
            return panel(user)

        builder.__name__ = f"dashboard_{build.__name__}"
        builders.append(builder)
    return builders


def ready() -> None:
    """Called once from OversightConfig.ready(): each role's dashboard heads its home page."""
    from portal.home import register_home_panel

    for builder in dashboard_panels():
        register_home_panel(builder)
