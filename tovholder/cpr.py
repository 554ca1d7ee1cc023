"""CPR numbers: validation, keyed hashing and encryption at rest.

A CPR lives only in the service that must hold it, encrypted. Other services match partner
messages by ``cpr_hash`` (HMAC-SHA256 with a key shared by referrals and health), which cannot be
reversed without the key. Never log, publish or put a CPR in a URL or span attribute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from datetime import date
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from tovholder.errors import DomainError
from tovholder.secretbox import dev_secret
from tovholder.settings import Settings

_CPR_RE = re.compile(r"^(\d{6})-?(\d{4})$")


class InvalidCpr(DomainError):
    pass


def century_of(year_2digit: int, seventh_digit: int) -> int:
    """The century of a CPR number's two-digit year, from its seventh digit (CPR-kontoret's table)."""
    if seventh_digit <= 3:
        return 1900
    if seventh_digit in (4, 9):
        return 2000 if year_2digit <= 36 else 1900
    return 2000 if year_2digit <= 57 else 1800  # 5–8


def birth_date(cpr: str) -> date:
    """The birth date a 10-digit CPR encodes (ValueError if the first six digits are no real date)."""
    day, month, yy = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6])
    return date(century_of(yy, int(cpr[6])) + yy, month, day)


# Why a CPR number is refused: (Danish, for the visitation officer or citizen who typed it; English, for
# a partner's receipt). The Danish always begins with ``CPR_INVALID``; none repeats the number.
CPR_INVALID = "CPR-nummeret er ikke gyldigt"
_NOT_TEXT = (f"{CPR_INVALID}: skriv de 10 cifre (DDMMÅÅ-XXXX).",
             "The CPR number must be a string of 10 digits (DDMMYYXXXX).")
_NOT_TEN_DIGITS = (f"{CPR_INVALID}: skriv de 10 cifre, fx 010190-1234 (bindestregen efter datoen kan udelades).",
                   "The CPR number must be 10 digits (DDMMYYXXXX, an optional dash after the date).")
_NO_REAL_DATE = (f"{CPR_INVALID}: de første seks cifre skal være en rigtig fødselsdato (DDMMÅÅ).",
                 "The CPR number does not start with a real birth date: the first six digits must be "
                 "a valid date (DDMMYY).")
_BORN_IN_THE_FUTURE = (f"{CPR_INVALID}: fødselsdatoen (de første seks cifre, århundredet efter det syvende) ligger i "
                       "fremtiden; tjek nummeret.",
                       "The CPR number's birth date (the first six digits, century from the seventh) lies in "
                       "the future; check the number.")


def _invalid(why: tuple[str, str]) -> InvalidCpr:
    return InvalidCpr(why[0], en=why[1])


def normalize_cpr(value: str, *, today: date | None = None) -> str:
    """Return the 10-digit CPR or raise InvalidCpr with a reason (never echoing the number): in Danish
    (``message``) for a person, in English (``en``) for a partner.

    With ``today``, a birth date in the future is refused too."""
    if not isinstance(value, str):
        raise _invalid(_NOT_TEXT)
    match = _CPR_RE.match(value.strip().replace(" ", ""))
    if not match:
        raise _invalid(_NOT_TEN_DIGITS)
    cpr = match.group(1) + match.group(2)
    try:
        born = birth_date(cpr)
    except ValueError:
        raise _invalid(_NO_REAL_DATE) from None
    if today is not None and born > today:
        raise _invalid(_BORN_IN_THE_FUTURE)
    # Modulus-11 is not checked: CPR numbers without it have been issued since 2007.
    return cpr


def mask(cpr: str) -> str:
    """For screens only: the date part and ``-XXXX``."""
    return f"{cpr[:6]}-XXXX"


CITIZEN_REFERENCE_SYSTEM = "urn:tovholder:citizen-reference"


class CprVault:
    """Keyed hashing and encryption of CPR numbers with the configured keys."""

    def __init__(self, settings: Settings) -> None:
        if settings.cpr_hash_key is not None:
            self._hash_key = settings.cpr_hash_key.get_secret_value().encode()
        elif settings.is_production:
            raise RuntimeError("TOVHOLDER_CPR_HASH_KEY must be set in production")
        else:
            self._hash_key = dev_secret(settings, "cpr-hash-key", lambda: base64.b64encode(os.urandom(32)))
        if settings.cpr_encryption_key is not None:
            enc_key = settings.cpr_encryption_key.get_secret_value().encode()
        elif settings.is_production:
            raise RuntimeError("TOVHOLDER_CPR_ENCRYPTION_KEY must be set in production")
        else:
            enc_key = dev_secret(settings, "cpr-encryption-key", Fernet.generate_key)
        self._fernet = Fernet(enc_key)

    def hash(self, cpr: str) -> str:
        return hmac.new(self._hash_key, normalize_cpr(cpr).encode(), hashlib.sha256).hexdigest()

    def citizen_reference(self, org: str, citizen_id: Any) -> str:
        """The name one partner organisation knows a citizen by (``CITIZEN_REFERENCE_SYSTEM``): stable,
        different for every organisation (two partners cannot match their references) and telling
        nothing of the CPR number or the internal citizen id."""
        message = "\n".join(("citizen-reference", org, str(citizen_id))).encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()[:32]

    def encrypt(self, cpr: str) -> str:
        return self._fernet.encrypt(normalize_cpr(cpr).encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise RuntimeError("CPR ciphertext cannot be decrypted with the configured key") from None
