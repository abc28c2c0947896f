"""Oversight: statistics selectors (what pages, dashboards and exports count)."""
