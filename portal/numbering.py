"""One counter facility for every official number (filing receipts, certificate serials).

``next_number(key)`` must be called inside the transaction that stores the numbered document.
It runs one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (PostgreSQL and SQLite 3.35+):
the first caller for a key creates the row, every later caller increments it, and the row lock
is held until the transaction ends. So, per key:

- two transactions never get the same value (the second waits for the first to commit);
- a transaction that rolls back gives its value back (no gap: the next caller gets it);
- a value that was committed is never issued again, whatever happens to the document later.
"""

from __future__ import annotations

from django.db import connection, transaction

from portal.models import Counter

__all__ = ["next_number", "peek_number"]


def next_number(key: str) -> int:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number() must run inside the transaction that stores the numbered document")
    table = connection.ops.quote_name(Counter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, value, updated_at) VALUES (%s, 1, CURRENT_TIMESTAMP) "  # noqa: S608
            f"ON CONFLICT (key) DO UPDATE SET value = {table}.value + 1, updated_at = CURRENT_TIMESTAMP "
            "RETURNING value",
            [key],
        )
        return int(cursor.fetchone()[0])


def peek_number(key: str) -> int:
    """The last value issued under ``key`` (0 if none): for display, never for issuing."""
    return Counter.objects.filter(key=key).values_list("value", flat=True).first() or 0
