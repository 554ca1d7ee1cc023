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


def dev_claims(**changes) -> dict:
    """A complete development token's claims, changed (a value of None drops the claim)."""
    now = int(time.time())
    claims = {"iss": DEV_ISSUER, "aud": "tovholder", "sub": "x", "role": "admin", "iat": now, "exp": now + 600}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def signed(settings, **changes) -> str:
    return jwt.encode(dev_claims(**changes), dev_signing_key(settings), algorithm="HS256")


def test_expired_forged_and_unknown_role_tokens_are_refused(settings):
    verifier = TokenVerifier(settings)
    with pytest.raises(Unauthorized, match="expired") as expired:
        verifier.verify(signed(settings, iat=int(time.time()) - 700, exp=int(time.time()) - 100))
    assert expired.value.code == "token-expired" and "udløbet" in expired.value.message_da
    forged = jwt.encode(dev_claims(), "guess-guess-guess-guess-guess-guess", algorithm="HS256")
    with pytest.raises(Unauthorized, match="not valid") as invalid:
        verifier.verify(forged)
    assert invalid.value.code == "token-invalid"
    with pytest.raises(Unauthorized, match="role") as odd:
        verifier.verify(signed(settings, role="superuser"))
    assert odd.value.code == "token-role"


@pytest.mark.parametrize("claim", ["sub", "exp", "iat"])
def test_a_token_without_sub_exp_or_iat_is_refused(settings, claim):
    # Before: no `sub` crashed with a KeyError (500); no `exp` or `iat` was accepted and never expired.
    with pytest.raises(Unauthorized) as refused:
        TokenVerifier(settings).verify(signed(settings, **{claim: None}))
    assert refused.value.status_code == 401 and refused.value.code == "token-incomplete"
    assert repr(claim) in refused.value.message and repr(claim) in refused.value.message_da


@pytest.mark.parametrize("sub", ["", "   ", 42])
def test_an_empty_or_non_text_subject_is_refused(settings, sub):
    with pytest.raises(Unauthorized):
        TokenVerifier(settings).verify(signed(settings, sub=sub))


def test_clock_skew_within_the_leeway_is_tolerated_beyond_it_refused(settings):
    verifier = TokenVerifier(settings)  # auth_leeway_s = 30
    now = int(time.time())
    assert verifier.verify(signed(settings, iat=now + 10, exp=now + 600)).sub == "x"   # issuer's clock a bit ahead
    assert verifier.verify(signed(settings, iat=now - 600, exp=now - 10)).sub == "x"   # expired moments ago
    with pytest.raises(Unauthorized):
        verifier.verify(signed(settings, iat=now + 3600, exp=now + 7200))  # issued an hour from now
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(signed(settings, iat=now - 600, exp=now - 60))


def test_production_never_issues_or_accepts_dev_tokens(tmp_path):
    production = Settings(state_dir=tmp_path, environment="production")
    with pytest.raises(RuntimeError):
        issue_dev_token(production, role="admin", sub="x")
    with pytest.raises(RuntimeError, match="AUTH_ISSUER"):
        TokenVerifier(production)


@pytest.mark.parametrize("raw", ["0101901234", "010190-1234", " 3112991234 "])
def test_valid_cpr_numbers(raw):
    assert normalize_cpr(raw) == raw.strip().replace("-", "")


@pytest.mark.parametrize("raw, reason, danish", [
    ("3202901234", "valid date", "rigtig fødselsdato"), ("0113901234", "valid date", "rigtig fødselsdato"),
    ("01019012345", "10 digits", "10 cifre"), ("01-01901234", "10 digits", "10 cifre"),
    ("abcdefghij", "10 digits", "10 cifre"), ("", "10 digits", "10 cifre"), (None, "10 digits", "10 cifre"),
])
def test_invalid_cpr_numbers_are_refused_without_echoing_them(raw, reason, danish):
    # A person reads the Danish (``message``, always beginning "CPR-nummeret er ikke gyldigt"); a partner's
    # receipt the English (``en``).
    with pytest.raises(InvalidCpr) as err:
        normalize_cpr(raw)
    assert err.value.message.startswith("CPR-nummeret er ikke gyldigt") and danish in err.value.message
    assert reason in err.value.en
    if raw:
        assert raw not in err.value.message and raw not in err.value.en


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
