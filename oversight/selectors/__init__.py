"""Oversight selectors, one module per part.

Each number a dashboard shows is computed by the same selector as the list it links to.
"""
