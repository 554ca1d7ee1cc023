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

from cryptography.fernet import Fernet, InvalidToken

from tovholder.errors import DomainError
from tovholder.secretbox import dev_secret
from tovholder.settings import Settings

_CPR_RE = re.compile(r"^(\d{6})-?(\d{4})$")


class InvalidCpr(DomainError):
    pass


def birth_date(cpr: str) -> date:
    """The birth date a CPR encodes; the century follows from the 7th digit (CPR-kontoret's table)."""
    day, month, yy, d7 = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6]), int(cpr[6])
    if d7 in (0, 1, 2, 3):
        century = 1900
    elif d7 in (4, 9):
        century = 2000 if yy <= 36 else 1900
    elif d7 in (5, 6, 7, 8):
        century = 2000 if yy <= 57 else 1800
    else:  # pragma: no cover - d7 is a digit
        raise InvalidCpr("invalid CPR")
    return date(century + yy, month, day)


def normalize_cpr(value: str) -> str:
    """Return the 10-digit CPR or raise InvalidCpr with a reason (never echoing the number)."""
    if not isinstance(value, str):
        raise InvalidCpr("The CPR number must be a string of 10 digits (DDMMYYXXXX).")
    match = _CPR_RE.match(value.strip())
    if not match:
        raise InvalidCpr("The CPR number must be 10 digits (DDMMYYXXXX, an optional dash after the date).")
    cpr = match.group(1) + match.group(2)
    try:
        birth_date(cpr)
    except ValueError:
        raise InvalidCpr("The CPR number does not start with a valid date (DDMMYY).") from None
    # Modulus-11 is not checked: CPR numbers without it have been issued since 2007.
    return cpr


def mask(cpr: str) -> str:
    """For screens only: the date part and ``-XXXX``."""
    return f"{cpr[:6]}-XXXX"


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

    def encrypt(self, cpr: str) -> str:
        return self._fernet.encrypt(normalize_cpr(cpr).encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise RuntimeError("CPR ciphertext cannot be decrypted with the configured key") from None
