"""Oversight services, one module per part: state changes, each checking permission, atomic, with history."""
