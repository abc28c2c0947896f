"""Oversight: complaints selectors (what pages, dashboards and exports count)."""
