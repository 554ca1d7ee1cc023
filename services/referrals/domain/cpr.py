"""CPR numbers in the referrals domain: the kit's rules (tovholder/cpr.py) with this domain's errors.

CPR numbers live only in the referrals service. Error messages never repeat the number.
"""

from __future__ import annotations

from datetime import date

from services.referrals.domain.errors import InvalidInput
from tovholder import cpr as kit_cpr
from tovholder.cpr import century_of  # noqa: F401  (part of this module's surface)


def normalize_cpr(raw: str, *, today: date | None = None) -> str:
    """The 10 digits of ``DDMMYYSSSS`` or ``DDMMYY-SSSS``; InvalidInput for a bad shape, a date that does
    not exist, or (given ``today``) a birth date in the future."""
    try:
        return kit_cpr.normalize_cpr(raw, today=today)
    except kit_cpr.InvalidCpr as error:
        raise InvalidInput(error.message, en=error.en) from None  # Danish for visitation, English for partners


def birth_date_from_cpr(digits: str) -> date:
    return kit_cpr.birth_date(normalize_cpr(digits))


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def masked_cpr(digits: str) -> str:
    """The birth-date part only (``010190-xxxx``), for roles that may identify but not see the full CPR."""
    return f"{digits[:6]}-xxxx"
