"""Oversight: audit selectors (what pages, dashboards and exports count)."""
