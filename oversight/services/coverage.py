"""Oversight: coverage services."""
