"""Forms of the institutions app arrive with its issue (see DOMAIN.md, Lifecycle)."""
