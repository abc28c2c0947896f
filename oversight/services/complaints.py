"""Oversight: complaints services."""
