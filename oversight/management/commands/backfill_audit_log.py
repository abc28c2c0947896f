"""Fill the audit log from every history table: rows written before the log existed, and rows that
``bulk_create_with_history`` wrote without sending the signal. In bulk; running it twice adds nothing."""

from django.core.management.base import BaseCommand

from oversight.services.audit import BACKFILL_BATCH, audit_backfill


class Command(BaseCommand):
    help = "Backfill oversight's audit log (AuditEntry) from every django-simple-history table, in bulk."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BACKFILL_BATCH)

    def handle(self, *args, batch_size: int, **options):
        added = audit_backfill(batch_size=batch_size)
        for label, n in added.items():
            self.stdout.write(f"{label}: {n}")
        self.stdout.write(f"added {sum(added.values())} audit entries")
