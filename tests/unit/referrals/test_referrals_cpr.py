from datetime import date

import pytest

from services.referrals.domain.cpr import age_on, birth_date_from_cpr, century_of, masked_cpr, normalize_cpr
from services.referrals.domain.errors import InvalidInput


@pytest.mark.parametrize("raw", ["0101901234", "010190-1234", " 010190-1234 ", "010190 1234"])
def test_accepts_the_usual_ways_of_writing_a_cpr(raw):
    assert normalize_cpr(raw) == "0101901234"


@pytest.mark.parametrize("raw", ["", "010190123", "01019012345", "0101-901234", "01019O1234", "010190--1234", None, 101901234])
def test_rejects_wrong_format(raw):
    with pytest.raises(InvalidInput, match="CPR-nummeret er ikke gyldigt: skriv de 10 cifre") as err:
        normalize_cpr(raw)
    assert "10 digits" in err.value.en  # a partner's receipt is English


@pytest.mark.parametrize("raw", ["3102901234", "0013901234", "0000901234", "3104901234"])
def test_rejects_dates_that_do_not_exist(raw):
    with pytest.raises(InvalidInput, match="rigtig fødselsdato") as err:
        normalize_cpr(raw)
    assert "real birth date" in err.value.en


def test_error_never_repeats_the_number():
    with pytest.raises(InvalidInput) as err:
        normalize_cpr("3102904321")
    for text in (err.value.message, err.value.en):
        assert "3102904321" not in text and "4321" not in text


def test_leap_day_depends_on_the_century_digit():
    # 29 Feb 2000 exists (digit 4, year 00 → 2000); 29 Feb 1900 does not (digit 0 → 1900).
    assert birth_date_from_cpr("2902004000") == date(2000, 2, 29)
    with pytest.raises(InvalidInput):
        normalize_cpr("2902000000")


@pytest.mark.parametrize(
    "yy,seventh,century",
    [(36, 4, 2000), (37, 4, 1900), (0, 9, 2000), (99, 9, 1900), (57, 5, 2000), (58, 5, 1800), (99, 3, 1900), (10, 0, 1900)],
)
def test_century_table(yy, seventh, century):
    assert century_of(yy, seventh) == century


def test_modulus_11_is_not_required():
    # 0101901235 fails mod-11 but such numbers are issued since 2007.
    assert normalize_cpr("0101901235") == "0101901235"


def test_birth_date_in_the_future_is_refused_when_today_is_given():
    with pytest.raises(InvalidInput, match="fremtiden") as err:
        normalize_cpr("0101304000", today=date(2026, 11, 22))  # 1 Jan 2030
    assert "future" in err.value.en
    assert normalize_cpr("0101304000") == "0101304000"


def test_age_and_mask():
    born = birth_date_from_cpr("1503804000")  # digit 4, year 80 → 1980
    assert born == date(1980, 3, 15)
    assert age_on(born, date(2026, 3, 14)) == 45
    assert age_on(born, date(2026, 3, 15)) == 46
    assert masked_cpr("1503804000") == "150380-xxxx"
