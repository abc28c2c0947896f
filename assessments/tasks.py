"""Tasks of the assessments app arrive with its issue (see DOMAIN.md, Lifecycle)."""
