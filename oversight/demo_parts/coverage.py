"""seed_demo: coverage (through the services)."""


def build(ctx) -> None:
    """Add this part's demo rows; ctx is portal.demo.DemoContext."""
