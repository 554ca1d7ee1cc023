from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from services.plans.domain.errors import PlanRuleViolation
from services.plans.domain.safety import (
    BvcBand,
    EpisodeOutcome,
    complete_learning_plan,
    is_escalation,
    open_learning_plan,
    rate,
    record_citizen_told,
    record_not_told,
    revise_tryghedsplan,
    score_bvc,
)

T0 = datetime(2026, 11, 22, 14, tzinfo=timezone.utc)


def test_a_tryghedsplan_needs_content_and_keeps_versions():
    with pytest.raises(PlanRuleViolation, match="mindst én"):
        revise_tryghedsplan(None, triggers=["  "], written_with_citizen=True, at=T0, by="s")
    v1 = revise_tryghedsplan(None, triggers=["Nye mennesker", " "], what_helps=["Små korte besøg"],
                             staff_should_do=["Tilbyde PN", "Tilbyde samtale"], as_needed_medication_note=" ",
                             written_with_citizen=True, at=T0, by="s")
    assert v1.version == 1 and v1.triggers == ("Nye mennesker",) and v1.as_needed_medication_note is None
    v2 = revise_tryghedsplan(v1, triggers=["Nye mennesker", "Økonomi"], what_helps=["Små korte besøg"],
                             staff_should_do=["Tilbyde PN"], written_with_citizen=False, at=T0, by="s")
    assert v2.version == 2 and v1.triggers == ("Nye mennesker",)


def test_a_tryghedsplan_revision_that_changes_nothing_is_refused():
    v1 = revise_tryghedsplan(None, triggers=["x"], written_with_citizen=True, at=T0, by="s")
    with pytest.raises(PlanRuleViolation, match="intet at ændre"):
        revise_tryghedsplan(v1, triggers=["x "], written_with_citizen=True, at=T0, by="s")


@pytest.mark.parametrize("level", ["yellow", "red", "green"])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_every_colour_needs_a_reason(level, reason):
    with pytest.raises(PlanRuleViolation, match="egrundelse"):
        rate(rating_id=uuid4(), level=level, reason=reason, rated_at=T0, rated_by="s",
             reassess_at=T0 + timedelta(hours=2))


@pytest.mark.parametrize("level", ["yellow", "red"])
def test_yellow_and_red_need_a_time_to_assess_again_after_the_rating(level):
    with pytest.raises(PlanRuleViolation, match="ny vurdering"):
        rate(rating_id=uuid4(), level=level, reason="Sparkede til stolen", rated_at=T0, rated_by="s")
    with pytest.raises(PlanRuleViolation, match="efter vurderingen"):
        rate(rating_id=uuid4(), level=level, reason="Sparkede til stolen", rated_at=T0, rated_by="s",
             reassess_at=T0)


def test_green_needs_no_reassessment_time():
    r = rate(rating_id=uuid4(), level="green", reason="Rolig igen", rated_at=T0, rated_by="s")
    assert r.reassess_at is None and not r.reassessment_overdue(T0 + timedelta(days=30))


def test_an_unknown_level_is_refused_with_the_known_ones():
    with pytest.raises(PlanRuleViolation, match="grøn, gul eller rød"):
        rate(rating_id=uuid4(), level="orange", reason="x", rated_at=T0, rated_by="s")


def test_the_citizen_is_told_once_and_not_before_the_rating():
    r = rate(rating_id=uuid4(), level="yellow", reason="Forandret blik", rated_at=T0, rated_by="s",
             reassess_at=T0 + timedelta(hours=3))
    assert r.awaits_telling()
    with pytest.raises(PlanRuleViolation, match="før vurderingen"):
        record_citizen_told(r, at=T0 - timedelta(minutes=1), by="s")
    told = record_citizen_told(r, at=T0 + timedelta(minutes=10), by="s")
    assert told.citizen_told and not told.awaits_telling()
    with pytest.raises(PlanRuleViolation, match="allerede fået besked"):
        record_citizen_told(told, at=T0 + timedelta(minutes=20), by="s")
    assert told.reassessment_overdue(T0 + timedelta(hours=3, minutes=1))


def test_not_telling_the_citizen_needs_a_reason():
    r = rate(rating_id=uuid4(), level="red", reason="Truede", rated_at=T0, rated_by="s",
             reassess_at=T0 + timedelta(hours=1))
    with pytest.raises(PlanRuleViolation):
        record_not_told(r, reason=" ")
    assert not record_not_told(r, reason="Sover").awaits_telling()


def test_a_rating_cannot_predate_the_current_one():
    current = rate(rating_id=uuid4(), level="yellow", reason="x", rated_at=T0, rated_by="s",
                   reassess_at=T0 + timedelta(hours=1))
    with pytest.raises(PlanRuleViolation, match="før den gældende"):
        rate(rating_id=uuid4(), level="green", reason="ok", rated_at=T0 - timedelta(hours=1), rated_by="s",
             previous=current)


def test_escalation_is_a_move_towards_red():
    green = rate(rating_id=uuid4(), level="green", reason="ok", rated_at=T0, rated_by="s")
    red = rate(rating_id=uuid4(), level="red", reason="x", rated_at=T0, rated_by="s", reassess_at=T0 + timedelta(hours=1))
    assert is_escalation(None, red) and is_escalation(green, red)
    assert not is_escalation(red, green) and not is_escalation(None, green)


def test_a_learning_plan_looks_back_up_to_24_hours_and_is_due_24_hours_after_the_episode():
    start, end = T0, T0 + timedelta(hours=2)
    lp = open_learning_plan(learning_plan_id=uuid4(), episode_started_at=start, episode_ended_at=end)
    assert lp.looks_back_from == start - timedelta(hours=24)
    assert lp.due_at == end + timedelta(hours=24)
    assert not lp.is_late(end + timedelta(hours=24)) and lp.is_late(end + timedelta(hours=24, seconds=1))
    with pytest.raises(PlanRuleViolation, match="højst 24 timer"):
        open_learning_plan(learning_plan_id=uuid4(), episode_started_at=start, episode_ended_at=end,
                           looks_back_from=start - timedelta(hours=24, minutes=1))
    with pytest.raises(PlanRuleViolation, match="før episoden"):
        open_learning_plan(learning_plan_id=uuid4(), episode_started_at=start, episode_ended_at=end,
                           looks_back_from=start + timedelta(minutes=1))
    with pytest.raises(PlanRuleViolation, match="slutte, før"):
        open_learning_plan(learning_plan_id=uuid4(), episode_started_at=end, episode_ended_at=start)


def test_learning_plans_are_written_after_good_episodes_too_and_completed_once():
    lp = open_learning_plan(learning_plan_id=uuid4(), episode_started_at=T0, episode_ended_at=T0,
                            outcome=EpisodeOutcome.WENT_WELL, written_with_staff_id="staff-7")
    with pytest.raises(PlanRuleViolation, match="efter episoden"):
        complete_learning_plan(lp, at=T0 - timedelta(minutes=1), what_happened="x", citizen_took_part=True)
    with pytest.raises(PlanRuleViolation, match="hvad der skete"):
        complete_learning_plan(lp, at=T0, what_happened="", citizen_took_part=True)
    done = complete_learning_plan(lp, at=T0 + timedelta(hours=30), what_happened="Gik en tur i stedet",
                                  citizen_took_part=False, citizen_view="Jeg skrev selv lidt")
    assert not done.is_late(T0 + timedelta(days=5))  # completed, even if late
    with pytest.raises(PlanRuleViolation, match="allerede afsluttet"):
        complete_learning_plan(done, at=T0 + timedelta(hours=31), what_happened="x", citizen_took_part=True)


def test_bvc_counts_observed_items_into_bands():
    assert score_bvc(observed={}, scored_at=T0, scored_by="s").band == BvcBand.LOW
    two = score_bvc(observed={"irritable": True, "boisterous": True, "confused": False}, scored_at=T0, scored_by="s")
    assert (two.total, two.band) == (2, BvcBand.MODERATE)
    three = score_bvc(observed=["verbal_threats", "irritable", "attacking_objects"], scored_at=T0, scored_by="s")
    assert (three.total, three.band) == (3, BvcBand.HIGH)
    assert three.items == ("irritable", "verbal_threats", "attacking_objects")  # canonical order
    with pytest.raises(PlanRuleViolation, match=r"ukendt\(e\) BVC"):
        score_bvc(observed=["angry"], scored_at=T0, scored_by="s")
    with pytest.raises(PlanRuleViolation, match="én gang"):
        score_bvc(observed=["irritable", "irritable"], scored_at=T0, scored_by="s")
