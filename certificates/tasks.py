"""Tasks of the certificates app arrive with its issue (see DOMAIN.md, Lifecycle)."""
