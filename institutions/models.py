"""Models arrive with their issue; see DOMAIN.md for the lifecycle stage this app carries."""
