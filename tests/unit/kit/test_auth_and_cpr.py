from __future__ import annotations

import time

import jwt
import pytest

from tovholder.auth import DEV_ISSUER, TokenVerifier, dev_signing_key, issue_dev_token
from tovholder.cpr import CprVault, InvalidCpr, birth_date, mask, normalize_cpr
from tovholder.errors import Unauthorized
from tovholder.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(state_dir=tmp_path, environment="development")


def test_dev_token_round_trip(settings):
    token = issue_dev_token(settings, role="coordinator", sub="orion-koordinator-1", botilbud="orion", name="Pia")
    principal = TokenVerifier(settings).verify(token)
    assert (principal.sub, principal.role, principal.botilbud, principal.name) == ("orion-koordinator-1", "coordinator", "orion", "Pia")


def test_signing_key_is_created_once_and_private(settings):
    key = dev_signing_key(settings)
    assert dev_signing_key(settings) == key
    assert settings.dev_signing_key_file.stat().st_mode & 0o077 == 0


def test_expired_forged_and_unknown_role_tokens_are_refused(settings):
    verifier = TokenVerifier(settings)
    expired = jwt.encode({"iss": DEV_ISSUER, "aud": "tovholder", "sub": "x", "role": "admin", "exp": int(time.time()) - 10},
                         dev_signing_key(settings), algorithm="HS256")
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(expired)
    forged = jwt.encode({"iss": DEV_ISSUER, "aud": "tovholder", "sub": "x", "role": "admin"}, "guess", algorithm="HS256")
    with pytest.raises(Unauthorized, match="not valid"):
        verifier.verify(forged)
    odd = jwt.encode({"iss": DEV_ISSUER, "aud": "tovholder", "sub": "x", "role": "superuser"},
                     dev_signing_key(settings), algorithm="HS256")
    with pytest.raises(Unauthorized, match="role"):
        verifier.verify(odd)


def test_production_never_issues_or_accepts_dev_tokens(tmp_path):
    production = Settings(state_dir=tmp_path, environment="production")
    with pytest.raises(RuntimeError):
        issue_dev_token(production, role="admin", sub="x")
    with pytest.raises(RuntimeError, match="AUTH_ISSUER"):
        TokenVerifier(production)


@pytest.mark.parametrize("raw", ["0101901234", "010190-1234", " 3112991234 "])
def test_valid_cpr_numbers(raw):
    assert normalize_cpr(raw) == raw.strip().replace("-", "")


@pytest.mark.parametrize("raw, reason", [
    ("3202901234", "valid date"), ("0113901234", "valid date"), ("01019012345", "10 digits"),
    ("01-01901234", "10 digits"), ("abcdefghij", "10 digits"), ("", "10 digits"),
])
def test_invalid_cpr_numbers_are_refused_without_echoing_them(raw, reason):
    with pytest.raises(InvalidCpr) as err:
        normalize_cpr(raw)
    assert reason in err.value.message
    if raw:
        assert raw not in err.value.message


def test_century_follows_the_seventh_digit():
    assert birth_date("0101054000").year == 2005   # 7th digit 4, yy ≤ 36
    assert birth_date("0101504000").year == 1950   # 7th digit 4, yy > 36
    assert birth_date("0101105000").year == 2010   # 7th digit 5–8, yy ≤ 57
    assert birth_date("0101705000").year == 1870   # 7th digit 5–8, yy > 57
    assert birth_date("2902963000").year == 1996   # a leap day
    with pytest.raises(ValueError):
        birth_date("2902003000")  # 29 Feb 1900 never was (1900 was no leap year)


def test_vault_hash_is_keyed_and_encryption_round_trips(tmp_path):
    a = CprVault(Settings(state_dir=tmp_path / "a", cpr_hash_key="k1"))
    b = CprVault(Settings(state_dir=tmp_path / "b", cpr_hash_key="k2"))
    assert a.hash("010190-1234") == a.hash("0101901234")
    assert a.hash("0101901234") != b.hash("0101901234")
    token = a.encrypt("0101901234")
    assert "0101901234" not in token and a.decrypt(token) == "0101901234"
    assert mask("0101901234") == "010190-XXXX"
