"""Print one line per demo certificate: ``number<TAB>name<TAB>status`` (valid, revoked or superseded).

For a newcomer trying the public verification right after ``seed_demo``: every certificate in the
database is listed (a demo database holds only demo certificates), in number order.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from certificates.models import Certificate


class Command(BaseCommand):
    help = "List the demo certificates: number, name and status (valid, revoked or superseded), tab-separated."

    def handle(self, *args, **options) -> None:
        rows = Certificate.objects.order_by("number").values_list("number", "name", "status")
        for number, name, status in rows.iterator(chunk_size=2000):
            self.stdout.write(f"{number}\t{name}\t{status}")
