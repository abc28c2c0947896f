"""Official numbers of this app, all from the shared counter (``portal.numbering``).

- Filing receipts: 沪职鉴备〔YEAR〕NNN号, gapless per year of issue (key ``filing-receipt:YEAR``).
- Site sequences (the last 6 digits of an institution code) are assigned by the Shanghai HR
  authority and entered (or confirmed) by the centre at confirmation; the portal only suggests
  one: the configured next value (``PORTAL_SITE_SEQUENCE_NEXT``) or, once sequences are in use,
  the one after the highest. It never counts from 000001 on its own. A sequence already used by
  any Shanghai institution is refused by the unique institution code.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Max

from institutions.models import Institution
from portal.numbering import next_number

RECEIPT_FORMAT = "沪职鉴备〔{year}〕{serial:03d}号"


def receipt_key(year: int) -> str:
    return f"filing-receipt:{year}"


def next_receipt_number(year: int) -> str:
    """Inside the confirming transaction: the next receipt number of ``year``, never reused."""
    return RECEIPT_FORMAT.format(year=year, serial=next_number(receipt_key(year)))


def _highest_site_sequence() -> int:
    top = Institution.objects.filter(province_code="31").aggregate(m=Max("site_sequence"))["m"]
    return int(top or 0)


def next_site_sequence() -> str:
    """A suggestion for the confirmation form, or "" when nothing is configured and none is in use."""
    configured = (getattr(settings, "PORTAL_SITE_SEQUENCE_NEXT", "") or "").strip()
    highest = _highest_site_sequence()
    candidates = [int(configured)] if configured.isdigit() else []
    if highest:
        candidates.append(highest + 1)
    return f"{max(candidates):06d}" if candidates else ""
