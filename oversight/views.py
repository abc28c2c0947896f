"""Views of the oversight app arrive with its issue (see DOMAIN.md, Lifecycle)."""
