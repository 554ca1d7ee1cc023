"""CPR numbers: validation and the birth date they encode.

CPR numbers live only in the referrals service. Error messages here never repeat the number.
Modulus-11 is deliberately *not* checked: since 2007 CPR numbers are issued that fail it.
"""

from __future__ import annotations

import re
from datetime import date

from services.referrals.domain.errors import InvalidInput

_CPR_SHAPE = re.compile(r"^(\d{6})-?(\d{4})$")


def normalize_cpr(raw: str, *, today: date | None = None) -> str:
    """Return the 10 digits of a CPR number written as ``DDMMYYSSSS`` or ``DDMMYY-SSSS``.

    Raises ``InvalidInput`` when the format is wrong, the first six digits are no real date, or
    (given ``today``) the birth date lies in the future.
    """
    if not isinstance(raw, str):
        raise InvalidInput("CPR number must be a string of 10 digits, e.g. 0101901234 or 010190-1234.")
    match = _CPR_SHAPE.match(raw.strip().replace(" ", ""))
    if match is None:
        raise InvalidInput(
            "CPR number must be 10 digits, optionally with a dash after the sixth (DDMMYY-SSSS)."
        )
    digits = match.group(1) + match.group(2)
    born = birth_date_from_cpr(digits)
    if today is not None and born > today:
        raise InvalidInput(
            "The CPR number's birth date (first six digits with the century from the seventh) lies in the future; "
            "check the number."
        )
    return digits


def century_of(year_2digit: int, seventh_digit: int) -> int:
    """The century a CPR number's two-digit year belongs to, from its seventh digit (CPR-kontoret's table)."""
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if year_2digit <= 36 else 1900
    # 5–8
    return 2000 if year_2digit <= 57 else 1800


def birth_date_from_cpr(digits: str) -> date:
    if len(digits) != 10 or not digits.isdigit():
        raise InvalidInput("CPR number must be 10 digits, optionally with a dash after the sixth (DDMMYY-SSSS).")
    day, month, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    year = century_of(yy, int(digits[6])) + yy
    try:
        born = date(year, month, day)
    except ValueError:
        raise InvalidInput(
            f"The CPR number's first six digits must be a real birth date (DDMMYY); "
            f"day {day:02d} of month {month:02d} in {year} does not exist."
        ) from None
    return born


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def masked_cpr(digits: str) -> str:
    """The birth-date part only (``010190-xxxx``), for roles that may identify but not see the full CPR."""
    return f"{digits[:6]}-xxxx"
