"""seed_demo for oversight: each part adds its rows through its services (oversight/demo_parts/)."""

from importlib import import_module

PARTS = ("coverage", "roster", "complaints", "cases", "statistics", "audit", "dashboards")


def build(ctx) -> None:
    for part in PARTS:
        import_module(f"oversight.demo_parts.{part}").build(ctx)
