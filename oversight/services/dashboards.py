"""Oversight: dashboards services."""
