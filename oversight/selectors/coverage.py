"""Oversight: coverage selectors (what pages, dashboards and exports count)."""
