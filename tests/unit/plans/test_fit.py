from datetime import date, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.fit import (
    CUTOFFS, AnsweredWith, Direction, FitSession, Scale, ScaleAnswer, ScaleScore, next_session_due, record_session,
    score_scale, smiley_to_mark, trend,
)

T0 = datetime(2026, 9, 1, 10, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)
ORS_KEYS = ("individual", "interpersonal", "social", "overall")
SRS_KEYS = ("relationship", "goals_and_topics", "approach_or_method", "overall")


def total(value):
    return None if value is None else ScaleAnswer(total=value)


def session(days, ors=None, srs=None, shared=False):
    return record_session(session_id=uuid4(), held_at=T0 + timedelta(days=days), recorded_by="s", ors=total(ors),
                          srs=total(srs), shared_by_citizen=shared, now=NOW)


def test_a_real_session_ors_22_5_and_srs_35_is_accepted_and_both_are_below_their_cutoffs():
    """Regression (issue 15): ORS 22.5 and SRS 35 were refused as outside 1–10."""
    s = session(0, ors=22.5, srs=35)
    assert (s.total("ors"), s.total("srs")) == (22.5, 35.0)
    assert s.below_cutoff("ors") is True and s.below_cutoff("srs") is True
    assert CUTOFFS == {"ors": 25.0, "srs": 36.0}
    above = session(0, ors=25, srs=36)
    assert above.below_cutoff("ors") is False and above.below_cutoff("srs") is False


def test_four_items_of_0_to_10_with_one_decimal_sum_to_the_total():
    score = score_scale("ors", ScaleAnswer(items=dict(zip(ORS_KEYS, (5.5, 6.0, 4.2, 6.8)))))
    assert score.total == 22.5 and score.items == (5.5, 6.0, 4.2, 6.8)
    assert score.answered_with == AnsweredWith.ITEMS
    ends = score_scale("srs", ScaleAnswer(items=dict(zip(SRS_KEYS, (0, 10, 10, 10))), total=30))
    assert ends.total == 30.0


@pytest.mark.parametrize("marks, reason", [
    ((10.1, 5, 5, 5), "fra 0 til 10"),
    ((-0.1, 5, 5, 5), "fra 0 til 10"),
    ((5.25, 5, 5, 5), "én decimal"),
])
def test_an_item_outside_0_to_10_or_finer_than_a_millimetre_is_refused(marks, reason):
    with pytest.raises(PlanRuleViolation, match=reason):
        score_scale("ors", ScaleAnswer(items=dict(zip(ORS_KEYS, marks))))


def test_an_instrument_has_exactly_its_four_items():
    with pytest.raises(PlanRuleViolation, match="mangler: overall"):
        score_scale("ors", ScaleAnswer(items=dict(zip(ORS_KEYS[:3], (5, 5, 5)))))
    with pytest.raises(PlanRuleViolation, match="ukendt: relationship"):
        score_scale("ors", ScaleAnswer(items={**dict(zip(ORS_KEYS, (5, 5, 5, 5))), "relationship": 3}))


def test_a_total_that_is_not_the_sum_of_the_items_is_refused():
    with pytest.raises(PlanRuleViolation, match="ikke summen"):
        score_scale("srs", ScaleAnswer(items=dict(zip(SRS_KEYS, (9, 9, 9, 9))), total=35))


@pytest.mark.parametrize("bad", [40.1, -1, 22.25])
def test_a_total_is_0_to_40_with_one_decimal(bad):
    with pytest.raises(PlanRuleViolation, match="0 til 40"):
        session(0, ors=bad)
    with pytest.raises(PlanRuleViolation, match="0 til 40"):
        session(0, ors=20, srs=bad)


def test_the_total_scale_ends_are_valid():
    s = session(0, ors=0, srs=40)
    assert (s.total("ors"), s.total("srs")) == (0.0, 40.0)


def test_smileys_map_onto_the_same_line_at_even_steps():
    assert [smiley_to_mark(face) for face in range(1, 6)] == [0.0, 2.5, 5.0, 7.5, 10.0]
    score = score_scale("srs", ScaleAnswer(smileys=dict(zip(SRS_KEYS, (5, 5, 4, 5)))))
    assert score.total == 37.5 and score.items == (10.0, 10.0, 7.5, 10.0)
    assert score.answered_with == AnsweredWith.SMILEYS
    for bad in (0, 6, True):
        with pytest.raises(PlanRuleViolation, match="smiley"):
            score_scale("srs", ScaleAnswer(smileys=dict(zip(SRS_KEYS, (bad, 5, 5, 5)))))
    with pytest.raises(PlanRuleViolation, match="ikke begge"):
        score_scale("ors", ScaleAnswer(items=dict(zip(ORS_KEYS, (5,) * 4)), smileys=dict(zip(ORS_KEYS, (3,) * 4))))


def test_a_session_needs_a_score_and_cannot_be_in_the_future():
    with pytest.raises(PlanRuleViolation, match="ORS- eller en SRS"):
        session(0)
    with pytest.raises(PlanRuleViolation, match="når den er holdt"):
        record_session(session_id=uuid4(), held_at=NOW + timedelta(minutes=1), recorded_by="s", ors=total(20),
                       srs=total(30), shared_by_citizen=True, now=NOW)


def test_scores_leave_the_session_only_when_the_citizen_shares():
    assert session(0, ors=16, srs=32, shared=False).visible_scores() == (None, None)
    assert session(0, ors=16, srs=32, shared=True).visible_scores() == (16.0, 32.0)
    with pytest.raises(PlanRuleViolation, match="dele"):
        record_session(session_id=uuid4(), held_at=T0, recorded_by="s", ors=total(20), srs=total(20),
                       shared_by_citizen=None, now=NOW)


def test_trend_improving_worsening_stable_and_too_little_data():
    rising = [session(14 * i, ors=12 + 4 * i) for i in range(4)]
    assert trend(rising).direction == Direction.IMPROVING
    assert trend(rising).slope_per_14_days == pytest.approx(4.0)
    falling = [session(14 * i, ors=32 - 6 * i) for i in range(3)]
    assert trend(falling).direction == Direction.WORSENING
    wobbling = [session(0, ors=24), session(14, ors=25.6), session(28, ors=23.2), session(42, ors=24.4)]
    assert trend(wobbling).direction == Direction.STABLE
    assert trend([session(0, ors=20)]).direction == Direction.NOT_ENOUGH_DATA
    assert trend([]).direction == Direction.NOT_ENOUGH_DATA


def test_the_trend_carries_the_cutoff_and_where_the_latest_total_lies():
    t = trend([session(0, ors=20), session(14, ors=27)], scale="ors")
    assert (t.cutoff, t.latest, t.latest_below_cutoff) == (25.0, 27.0, False)
    s = trend([session(0, srs=38), session(14, srs=34)], scale="srs")
    assert (s.cutoff, s.latest, s.latest_below_cutoff) == (36.0, 34.0, True)
    empty = trend([], scale="srs")
    assert (empty.cutoff, empty.latest, empty.latest_below_cutoff) == (36.0, None, None)


def test_sessions_on_the_old_1_to_10_scale_are_kept_but_not_mixed_into_the_trend_or_cutoffs():
    old = FitSession(session_id=uuid4(), held_at=T0, recorded_by="s",
                     ors=ScaleScore(3.0, None, AnsweredWith.TOTAL), srs=None, shared_by_citizen=True,
                     scale=Scale.LEGACY_1_10)
    assert old.total("ors") == 3.0 and old.below_cutoff("ors") is None
    t = trend([old, session(14, ors=30), session(28, ors=31)])
    assert [p[1] for p in t.points] == [30.0, 31.0]


def test_trend_orders_by_time_and_skips_sessions_without_that_scale():
    sessions = [session(28, ors=28, srs=36), session(0, ors=12), session(14, srs=8)]
    t = trend(sessions, scale="ors")
    assert [p[1] for p in t.points] == [12.0, 28.0]
    assert t.direction == Direction.IMPROVING
    assert trend(sessions, scale="srs").direction == Direction.IMPROVING
    with pytest.raises(PlanRuleViolation):
        trend(sessions, scale="bvc")


def test_two_sessions_at_the_same_moment_are_not_a_trend():
    assert trend([session(0, ors=8), session(0, ors=36)]).direction == Direction.NOT_ENOUGH_DATA


def test_next_session_is_about_14_days_after_the_last():
    assert next_session_due([], start=date(2026, 11, 1)) == date(2026, 11, 15)
    assert next_session_due([session(0, ors=20), session(20, ors=20)], start=date(2026, 1, 1)) == date(2026, 10, 5)
