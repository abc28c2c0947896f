"""Oversight: dashboards selectors (what pages, dashboards and exports count)."""
