"""Official numbers of this app, all from the shared counter (``portal.numbering``).

- Filing receipts: 沪职鉴备〔YEAR〕NNN号, gapless per year of issue (key ``filing-receipt:YEAR``).
- Site sequences (the last 6 digits of an institution code) left blank at confirmation are
  assigned under the counter's lock (key ``institution-site:31``), above every sequence in use,
  so two confirmations at the same moment get consecutive sequences.
"""

from __future__ import annotations

from django.db.models import Max

from institutions.models import Institution
from portal.models import Counter
from portal.numbering import next_number

RECEIPT_FORMAT = "沪职鉴备〔{year}〕{serial:03d}号"
SITE_KEY = "institution-site:31"


def receipt_key(year: int) -> str:
    return f"filing-receipt:{year}"


def next_receipt_number(year: int) -> str:
    """Inside the confirming transaction: the next receipt number of ``year``, never reused."""
    return RECEIPT_FORMAT.format(year=year, serial=next_number(receipt_key(year)))


def _highest_site_sequence() -> int:
    top = Institution.objects.aggregate(m=Max("site_sequence"))["m"]
    return int(top or 0)


def next_site_sequence() -> str:
    """A suggestion for the confirmation form (not reserved: the unique code constraint decides)."""
    counter = Counter.objects.filter(key=SITE_KEY).values_list("value", flat=True).first() or 0
    return f"{max(counter, _highest_site_sequence()) + 1:06d}"


def assign_site_sequence() -> str:
    """Inside the confirming transaction: a sequence above every one in use, under the counter lock."""
    value = next_number(SITE_KEY)  # locks the counter row until commit
    highest = _highest_site_sequence()  # read under that lock: every assigner holds it
    if value <= highest:
        value = highest + 1
        Counter.objects.filter(key=SITE_KEY).update(value=value)
    return f"{value:06d}"
