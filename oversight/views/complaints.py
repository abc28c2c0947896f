"""Oversight: complaints pages. Owns its URLs (`urlpatterns`) and, in `ready()`, its menu entries and home panels."""

urlpatterns: list = []


def ready() -> None:
    """Called once from OversightConfig.ready(): register menu entries and home panels here."""
