"""seed_demo: dashboards (through the services)."""


def build(ctx) -> None:
    """Add this part's demo rows; ctx is portal.demo.DemoContext."""
