"""Oversight: audit services."""
