"""Oversight: roster selectors (what pages, dashboards and exports count)."""
