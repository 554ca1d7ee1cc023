"""Facts and schedules: a date that records what happened is never in the future, a plan may be.

Facts (moved in, a follow-up held, a phase-out visit made, a placement ended) are registered when
they have happened: not after today (with a small allowance for a client clock a few minutes ahead
around midnight) and not before what they follow (the referral, the move-in). The case begins when
the referral is received, which is after the citizen's birth (the CPR's birth date is checked at
intake), so "not before the case" also keeps a fact after the birth. Schedules (a start date, the
next follow-up, a planned move-out) may lie ahead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from services.referrals.domain.errors import InvalidInput
from tovholder import clock

# A client a few minutes ahead of the server (around midnight) may send tomorrow's date for today.
FACT_CLOCK_SKEW = timedelta(minutes=10)


def latest_fact_date(at: datetime) -> date:
    """The last day a fact registered at ``at`` may carry (today in Copenhagen, with the skew)."""
    return clock.local_date(at + FACT_CLOCK_SKEW)


def check_fact_date(day: date, *, what: str, at: datetime, not_before: Iterable[tuple[date | None, str]] = (),
                    born_on: date | None = None) -> date:
    """``day`` as the date of a fact registered at ``at``: refused when it lies in the future, before
    any of ``not_before`` (a date and its Danish name), or before the citizen's birth."""
    latest = latest_fact_date(at)
    if day > latest:
        raise InvalidInput(
            f"{what} ({day.isoformat()}) ligger i fremtiden. Registrér det, når det er sket; "
            "en plan for fremtiden registreres som en plan."
        )
    bounds = list(not_before)
    if born_on is not None:
        bounds.append((born_on, "borgerens fødselsdato"))
    for bound, name in bounds:
        if bound is not None and day < bound:
            raise InvalidInput(f"{what} ({day.isoformat()}) ligger før {name} ({bound.isoformat()}).")
    return day
