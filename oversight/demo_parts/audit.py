"""seed_demo: audit (through the services) — the log of history rows that bulk paths wrote without the signal."""


def build(ctx) -> None:
    """Every history row written while seeding already has its log entry (the receiver), except
    those written by ``bulk_create_with_history``: the backfill adds them, and nothing twice."""
    from oversight.services.audit import audit_backfill

    audit_backfill()
