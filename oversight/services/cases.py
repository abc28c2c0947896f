"""Oversight: cases services."""
