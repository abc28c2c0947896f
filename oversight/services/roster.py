"""Oversight: roster services."""
