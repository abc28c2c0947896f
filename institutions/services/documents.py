"""Filing receipts as PDF, rendered after the confirmation commits.

``filing_confirm`` stores the receipt row (its number from the counter) and queues
``institutions.tasks.render_receipt`` on commit. Rendering happens outside any transaction;
the file is written under a name fixed by the receipt, then recorded with a conditional update,
so running the job twice, or two workers at once, leaves one file and no orphan. A failed
render is retried by the task and by the daily sweep; until then the download page says the
receipt is being prepared.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.db.models import F

from institutions.models import FilingReceipt

logger = logging.getLogger(__name__)


def receipt_file_name(receipt: FilingReceipt) -> str:
    return f"receipts/{receipt.issued_at:%Y}/receipt-{receipt.pk}.pdf"


def receipt_render(*, receipt_id: int) -> bool:
    """Render the receipt's PDF unless it exists. True when this call stored it."""
    receipt = (
        FilingReceipt.objects.select_related("application__school__organisation", "institution__school")
        .filter(pk=receipt_id)
        .first()
    )
    if receipt is None or receipt.pdf:
        return False
    from institutions.pdf import render_receipt

    FilingReceipt.objects.filter(pk=receipt_id).update(pdf_attempts=F("pdf_attempts") + 1)
    data = render_receipt(receipt)  # slow: no transaction, no lock held
    storage = receipt.pdf.storage
    name = receipt_file_name(receipt)
    if storage.exists(name):  # an earlier attempt wrote it but did not record it
        storage.delete(name)
    saved = storage.save(name, ContentFile(data))
    recorded = FilingReceipt.objects.filter(pk=receipt_id, pdf="").update(pdf=saved)
    if not recorded and saved != name:  # someone else recorded theirs meanwhile
        storage.delete(saved)
    return bool(recorded)


def pending_receipts():
    return FilingReceipt.objects.filter(pdf="")


def receipts_render_pending(*, limit: int = 50) -> int:
    """The sweep: render every receipt still without its PDF (lost task, failed render)."""
    done = 0
    for pk in pending_receipts().order_by("pk").values_list("pk", flat=True)[:limit]:
        try:
            done += receipt_render(receipt_id=pk)
        except Exception:  # noqa: BLE001 - one bad receipt must not stop the others; logged
            logger.exception("receipt %s could not be rendered", pk)
    return done
