"""Oversight: cases selectors (what pages, dashboards and exports count)."""
