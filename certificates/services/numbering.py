"""Certificate numbers (人社鉴发〔2019〕2号 coding rule, cited by 〔2021〕1号; DOMAIN.md).

22 characters: the institution's 13-character code (category letter, 4-digit ministry code,
31 for Shanghai, 6-digit site sequence), the two-digit year of issue, the level digit and a
6-digit serial. The serial is the institution's own per year of issue: gapless, never reused
(not even after a revocation), and safe under concurrent issuance because it comes from the
shared counter (``portal.numbering.next_number``) inside the issuing transaction.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from institutions.models import Institution
from portal.numbering import next_number, peek_number

NUMBER_RE = re.compile(r"^[A-Z]\d{4}31\d{6}\d{2}[1-5]\d{6}$")
MAX_SERIAL = 999_999


def counter_key(institution: Institution, year: int) -> str:
    return f"certificate:{institution.code}:{year % 100:02d}"


def certificate_number(*, institution: Institution, issued_on: dt.date, level: int) -> str:
    """The next number; call inside the transaction that stores the certificate."""
    serial = next_number(counter_key(institution, issued_on.year))
    if serial > MAX_SERIAL:
        raise ValidationError(
            _("%(code)s在%(year)s年的证书流水号已用尽（最多999999个）。")
            % {"code": institution.code, "year": issued_on.year}
        )
    return f"{institution.code}{issued_on.year % 100:02d}{int(level)}{serial:06d}"


def issued_count(*, institution: Institution, year: int) -> int:
    return peek_number(counter_key(institution, year))


def is_well_formed(number: str) -> bool:
    return bool(NUMBER_RE.match(number or ""))
