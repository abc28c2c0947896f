"""Oversight pages, one module per part."""
