"""The filing receipt (备案回执) as a one-page A4 PDF with real CJK glyphs (WeasyPrint)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation


def render_receipt(receipt) -> bytes:
    from weasyprint import HTML

    app = receipt.application
    with translation.override("zh-hans"):
        html = render_to_string(
            "institutions/receipt_pdf.html",
            {
                "receipt": receipt,
                "institution": receipt.institution,
                "application": app,
                "rows": list(receipt.institution.occupations.filter(application=app).select_related("occupation")),
                "consents": list(app.consents.filter(agreed=True).order_by("decided_at")),
                "sites": list(receipt.institution.sites.prefetch_related("rooms")),
            },
        )
    return HTML(string=html).write_pdf()
