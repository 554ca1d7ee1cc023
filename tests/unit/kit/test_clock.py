"""The kit's clock: Copenhagen time across daylight saving, working days with Danish holidays."""

from datetime import UTC, date, datetime, timedelta

import pytest

from tovholder import clock


def test_frozen_moves_now_and_restores_it():
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    with clock.frozen(moment):
        assert clock.now() == moment
        assert clock.today() == date(2026, 3, 29)
    assert clock.now() - datetime.now(UTC) < timedelta(seconds=5)


def test_frozen_refuses_a_naive_moment():
    with pytest.raises(ValueError):
        with clock.frozen(datetime(2026, 1, 1)):
            pass


def test_end_of_local_day_follows_daylight_saving():
    assert clock.end_of_local_day(date(2026, 1, 15)) == datetime(2026, 1, 15, 22, 59, tzinfo=UTC)
    assert clock.end_of_local_day(date(2026, 7, 15)) == datetime(2026, 7, 15, 21, 59, tzinfo=UTC)
    # 23:30 UTC on 15 July is already 16 July in Copenhagen
    assert clock.local_date(datetime(2026, 7, 15, 23, 30, tzinfo=UTC)) == date(2026, 7, 16)


@pytest.mark.parametrize("day, name", [
    (date(2026, 4, 2), "Skærtorsdag"),
    (date(2026, 4, 6), "Anden påskedag"),
    (date(2026, 5, 14), "Kristi himmelfartsdag"),
    (date(2026, 5, 25), "Anden pinsedag"),
    (date(2026, 6, 5), "Grundlovsdag"),
    (date(2026, 12, 24), "Juleaftensdag"),
    (date(2026, 12, 31), "Nytårsaftensdag"),
    (date(2027, 1, 1), "Nytårsdag"),
])
def test_holidays_and_closing_days_are_not_working_days(day, name):
    assert clock.holiday_name(day) == name
    assert not clock.is_working_day(day)


def test_store_bededag_is_a_working_day_since_2024():
    assert clock.is_working_day(date(2026, 5, 1)) is True  # 4th Friday after Easter 2026, and 1 May
    assert clock.holiday_name(date(2023, 5, 5)) is not None  # it was one until 2023


def test_five_working_days_over_easter():
    # Wednesday 1 April 2026 + 5 working days: Thu 2, Fri 3 and Mon 6 are Easter holidays, so the
    # count runs Tue 7, Wed 8, Thu 9, Fri 10, Mon 13
    assert clock.add_working_days(date(2026, 4, 1), 5) == date(2026, 4, 13)


def test_working_days_over_christmas_and_new_year():
    # Tuesday 22 Dec 2026: 23 Dec is a working day, 24-27 Dec closed, 28-30 open, 31 + 1 Jan closed
    assert clock.add_working_days(date(2026, 12, 22), 5) == date(2027, 1, 4)
    assert clock.working_days_between(date(2026, 12, 22), date(2027, 1, 4)) == 5
    assert clock.working_days_between(date(2027, 1, 4), date(2026, 12, 22)) == 0


def test_next_working_day_skips_the_weekend():
    assert clock.next_working_day(date(2026, 11, 27)) == date(2026, 11, 30)  # Friday → Monday


def test_working_day_deadline_is_the_end_of_that_day_in_copenhagen():
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    assert clock.working_day_deadline(friday_evening, 1) == datetime(2026, 11, 30, 22, 59, tzinfo=UTC)


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        clock.add_working_days(date(2026, 1, 5), -1)
