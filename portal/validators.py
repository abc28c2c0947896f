"""Check-character validators for Chinese national identifiers."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# GB 11643-1999 citizen identity number: 17 digits and a check character.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")


def id_number_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalise_id_number(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def validate_resident_id_number(value: str) -> None:
    """GB 11643: 18 characters, a real date of birth, and a matching check character."""
    number = normalise_id_number(value)
    if not _ID_RE.match(number):
        raise ValidationError(_("身份证号码应为18位（前17位为数字，末位为数字或X）。"), code="format")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="birth_date") from None
    if birth.year < 1900 or birth > dt.date.today():
        raise ValidationError(_("身份证号码中的出生日期无效。"), code="birth_date")
    if id_number_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号码校验位错误。"), code="check_digit")


# GB 32100-2015 unified social credit code: 17 characters and a check character, base 31.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


# GB 11714-1997 organisation code: 8 characters and a check character (0–9 or X). Characters 9–17
# of a unified social credit code are the organisation's code (主体标识码, GB 32100-2015 §4.3).
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_code_check_char(first8: str) -> str:
    """GB 11714 check character: digits count as themselves, letters A–Z as 10–35."""
    total = sum(int(c, 36) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "0" if check == 11 else "X" if check == 10 else str(check)


def make_uscc(prefix8: str, organisation8: str) -> str:
    """A code that passes both checks, from the registration part (characters 1–8) and an organisation
    code body (characters 9–16); used by demo and test data, which must never be a real organisation's."""
    first17 = prefix8 + organisation8 + organisation_code_check_char(organisation8)
    return first17 + uscc_check_char(first17)


def validate_uscc(value: str) -> None:
    code = (value or "").strip().upper()
    if not _USCC_RE.match(code):
        raise ValidationError(_("统一社会信用代码应为18位，由数字和大写字母组成（不含I、O、Z、S、V）。"), code="format")
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(_("统一社会信用代码校验位错误。"), code="check_digit")
    if organisation_code_check_char(code[8:16]) != code[16]:
        raise ValidationError(
            _("统一社会信用代码第9至17位（组织机构代码）的校验码错误。"), code="organisation_check_digit"
        )
