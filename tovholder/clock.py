"""Time, the Danish way: one now(), Copenhagen local time, and working days with Danish holidays.

Stored times are UTC; people live in Copenhagen time (due "by the end of the day" means 23:59 there,
whatever the daylight-saving offset). Deadlines that the law or the region counts in working days
(the network meeting within 5 working days, "the next working day" after a discharge) skip
weekends, the public holidays (helligdage, from the well-kept ``holidays`` package, which also knows
that Store Bededag stopped being one in 2024) and the days the municipality's offices are closed by
collective agreement: Grundlovsdag, juleaftensdag and nytårsaftensdag.

``now()`` is the one source of the current time, so tests can move it: ``with frozen(moment): ...``.
Pure apart from reading the system clock; domain code may import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

# Closed by agreement in Danish municipalities though not helligdage (the holidays package calls them
# "optional"); 1 May is optional there too but offices are open, so it stays a working day.
_CLOSING_DAYS = {(6, 5): "Grundlovsdag", (12, 24): "Juleaftensdag", (12, 31): "Nytårsaftensdag"}

_frozen_at: ContextVar[datetime | None] = ContextVar("tovholder_frozen_at", default=None)


def now() -> datetime:
    """The current moment, timezone-aware UTC."""
    return _frozen_at.get() or datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Make ``now()`` answer ``at`` inside the block (tests; the moment must be timezone-aware)."""
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware moment")
    token = _frozen_at.set(at.astimezone(UTC))
    try:
        yield
    finally:
        _frozen_at.reset(token)


def local(moment: datetime) -> datetime:
    return moment.astimezone(COPENHAGEN)


def local_date(moment: datetime) -> date:
    return moment.astimezone(COPENHAGEN).date()


def today() -> date:
    """Today's date in Copenhagen."""
    return local_date(now())


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` Copenhagen time, as UTC (the offset of that very day)."""
    return datetime.combine(day, time(hour, minute), tzinfo=COPENHAGEN).astimezone(UTC)


def start_of_local_day(day: date) -> datetime:
    return at_local(day, 0, 0)


def end_of_local_day(day_or_moment: date | datetime) -> datetime:
    """23:59 Copenhagen time of that day, as UTC."""
    day = local_date(day_or_moment) if isinstance(day_or_moment, datetime) else day_or_moment
    return at_local(day, 23, 59)


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("DK", years=year, language="da"))


def holiday_name(day: date) -> str | None:
    """The Danish name of the holiday or closing day ``day`` is, or None for an ordinary day."""
    return _public_holidays(day.year).get(day) or _CLOSING_DAYS.get((day.month, day.day))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and holiday_name(day) is None


def add_working_days(day: date, count: int) -> date:
    """The date ``count`` working days after ``day`` (``day`` itself does not count)."""
    if count < 0:
        raise ValueError("count must not be negative")
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def next_working_day(day: date) -> date:
    return add_working_days(day, 1)


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def working_day_deadline(moment: datetime, working_days: int, *, at: time = time(23, 59)) -> datetime:
    """The end (``at``, Copenhagen time) of the ``working_days``-th working day after ``moment``."""
    day = add_working_days(local_date(moment), working_days)
    return at_local(day, at.hour, at.minute)
