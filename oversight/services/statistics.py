"""Oversight: statistics services."""
