from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.fit import Direction, next_session_due, record_session, trend

T0 = datetime(2026, 9, 1, 10, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def session(days, ors=None, srs=None, shared=False):
    return record_session(session_id=uuid4(), held_at=T0 + timedelta(days=days), recorded_by="s", ors=ors, srs=srs,
                          shared_by_citizen=shared, now=NOW)


@pytest.mark.parametrize("bad", [0, 0.99, 10.01, -3, 11])
def test_scores_are_1_to_10(bad):
    with pytest.raises(PlanRuleViolation, match="1 to 10"):
        session(0, ors=bad)
    with pytest.raises(PlanRuleViolation, match="1 to 10"):
        session(0, ors=5, srs=bad)


def test_the_scale_ends_are_valid():
    s = session(0, ors=1, srs=10)
    assert (s.ors, s.srs) == (1.0, 10.0)


def test_a_session_needs_a_score_and_cannot_be_in_the_future():
    with pytest.raises(PlanRuleViolation, match="ORS or an SRS"):
        session(0)
    with pytest.raises(PlanRuleViolation, match="before it is held"):
        record_session(session_id=uuid4(), held_at=NOW + timedelta(minutes=1), recorded_by="s", ors=5, srs=5,
                       shared_by_citizen=True, now=NOW)


def test_scores_leave_the_session_only_when_the_citizen_shares():
    assert session(0, ors=4, srs=8, shared=False).visible_scores() == (None, None)
    assert session(0, ors=4, srs=8, shared=True).visible_scores() == (4.0, 8.0)
    with pytest.raises(PlanRuleViolation, match="share"):
        record_session(session_id=uuid4(), held_at=T0, recorded_by="s", ors=5, srs=5, shared_by_citizen=None, now=NOW)


def test_trend_improving_worsening_stable_and_too_little_data():
    rising = [session(14 * i, ors=3 + i) for i in range(4)]
    assert trend(rising).direction == Direction.IMPROVING
    assert trend(rising).slope_per_14_days == pytest.approx(1.0)
    falling = [session(14 * i, ors=8 - 1.5 * i) for i in range(3)]
    assert trend(falling).direction == Direction.WORSENING
    wobbling = [session(0, ors=6), session(14, ors=6.4), session(28, ors=5.8), session(42, ors=6.1)]
    assert trend(wobbling).direction == Direction.STABLE
    assert trend([session(0, ors=5)]).direction == Direction.NOT_ENOUGH_DATA
    assert trend([]).direction == Direction.NOT_ENOUGH_DATA


def test_trend_orders_by_time_and_skips_sessions_without_that_scale():
    sessions = [session(28, ors=7, srs=9), session(0, ors=3), session(14, srs=2)]
    t = trend(sessions, scale="ors")
    assert [p[1] for p in t.points] == [3.0, 7.0]
    assert t.direction == Direction.IMPROVING
    assert trend(sessions, scale="srs").direction == Direction.IMPROVING
    with pytest.raises(PlanRuleViolation):
        trend(sessions, scale="bvc")


def test_two_sessions_at_the_same_moment_are_not_a_trend():
    assert trend([session(0, ors=2), session(0, ors=9)]).direction == Direction.NOT_ENOUGH_DATA


def test_next_session_is_about_14_days_after_the_last():
    assert next_session_due([], start=date(2026, 11, 1)) == date(2026, 11, 15)
    assert next_session_due([session(0, ors=5), session(20, ors=5)], start=date(2026, 1, 1)) == date(2026, 10, 5)
