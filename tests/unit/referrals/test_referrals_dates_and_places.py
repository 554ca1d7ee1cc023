"""Issue 15, dates and places: facts are not in the future nor before what they follow, schedules may
lie ahead; occupancy never above the approved places; the resident mix is counted from placements."""

from datetime import date, datetime, timedelta, timezone

import pytest

from referrals_builders import at, make_offer, placed_case
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.dates import FACT_CLOCK_SKEW, check_fact_date
from services.referrals.domain.errors import InvalidInput
from services.referrals.domain.model import Destination, Trait
from services.referrals.domain.offers import (
    CitizenProfile,
    ResidentMix,
    check_occupancy,
    match_offers,
    resident_mix_of,
    validate_offer,
)

# 1 September 2026, 10:00 Copenhagen time
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=timezone.utc)


def test_a_fact_may_be_today_but_not_tomorrow():
    assert check_fact_date(date(2026, 9, 1), what="Datoen", at=NOW) == date(2026, 9, 1)
    with pytest.raises(InvalidInput, match=r"Datoen \(2026-09-02\) ligger i fremtiden"):
        check_fact_date(date(2026, 9, 2), what="Datoen", at=NOW)


def test_a_client_clock_a_few_minutes_ahead_at_midnight_is_allowed():
    just_before_midnight = datetime(2026, 9, 1, 21, 55, tzinfo=timezone.utc)  # 23:55 in Copenhagen
    check_fact_date(date(2026, 9, 2), what="Datoen", at=just_before_midnight)
    too_early = just_before_midnight - FACT_CLOCK_SKEW - timedelta(minutes=1)
    with pytest.raises(InvalidInput, match="i fremtiden"):
        check_fact_date(date(2026, 9, 2), what="Datoen", at=too_early)


def test_a_fact_is_not_before_what_it_follows_nor_before_the_birth():
    with pytest.raises(InvalidInput, match="ligger før indflytningsdatoen"):
        check_fact_date(date(2026, 1, 1), what="Datoen", at=NOW, not_before=[(date(2026, 2, 1), "indflytningsdatoen")])
    with pytest.raises(InvalidInput, match="før borgerens fødselsdato"):
        check_fact_date(date(1989, 12, 31), what="Datoen", at=NOW, born_on=date(1990, 1, 1))


# The reproductions: move-in on a future date, a follow-up "held" in 2030 and a phase-out visit next
# month were accepted as facts.


def test_move_in_on_a_future_date_is_refused():
    from referrals_builders import granted_case
    case, offer = granted_case()
    with pytest.raises(InvalidInput, match="Indflytningsdatoen .* ligger i fremtiden"):
        lc.move_in(case, offer=offer, moved_in_on=date(2026, 2, 2), by="v", at=at(1, 2))
    assert case.placement is None


def test_a_follow_up_held_in_2030_is_refused_but_the_next_one_may_be_planned_ahead():
    case, _ = placed_case()
    with pytest.raises(InvalidInput, match="opfølgning .* ligger i fremtiden"):
        lc.record_follow_up(case, held_on=date(2030, 1, 1), next_follow_up_date=date(2030, 3, 1), by="v", at=NOW)
    lc.record_follow_up(case, held_on=date(2026, 9, 1), next_follow_up_date=date(2026, 12, 1), by="v", at=NOW)
    assert case.placement.follow_up_date == date(2026, 12, 1)


def test_a_phase_out_visit_next_month_is_refused_while_the_planned_move_out_may_lie_ahead():
    case, _ = placed_case()
    lc.plan_move_out(case, destination=Destination.OWN_HOME, receiving_step=3, planned_on=date(2026, 10, 15),
                     by="v", at=NOW)
    with pytest.raises(InvalidInput, match="udslusningsbesøget .* ligger i fremtiden"):
        lc.record_phase_out_visit(case, visited_on=date(2026, 10, 1), by="v", at=NOW)
    assert case.move_out_plan.phase_out_visits_done == ()


def test_a_placement_does_not_end_in_the_future():
    case, _ = placed_case()
    with pytest.raises(InvalidInput, match="opholdet sluttede .* ligger i fremtiden"):
        lc.end_placement(case, ended_on=date(2026, 9, 30), destination=Destination.OWN_HOME, by="v", at=NOW)
    assert case.ending is None


# Places


def test_five_occupied_of_one_approved_place_is_refused():
    with pytest.raises(InvalidInput, match="1 godkendte pladser, men 5 optagne"):
        validate_offer(make_offer(approved_places=1, occupied=5))
    with pytest.raises(InvalidInput, match="0 optagne og 2 reserverede"):
        validate_offer(make_offer(approved_places=1, occupied=0, reserved=2))
    validate_offer(make_offer(approved_places=1, occupied=1))


def test_occupancy_is_never_below_the_citizens_visitation_moved_in():
    with pytest.raises(InvalidInput, match="3 borgere, som visitationen har registreret som flyttet ind"):
        check_occupancy(make_offer(approved_places=10, occupied=2), placed_here=3)
    check_occupancy(make_offer(approved_places=10, occupied=3), placed_here=3)


def test_the_resident_mix_is_counted_from_the_residents_traits():
    mix = resident_mix_of([frozenset({Trait.UDADREAGERENDE, Trait.MISBRUG}), frozenset({Trait.DOBBELTDIAGNOSE}),
                           frozenset(), frozenset({Trait.TILBAGETRUKKET})])
    assert mix == ResidentMix(residents=4, outward_reacting=1, drug_using=2, withdrawn=1)


def test_the_warning_names_residents_counted_from_placements_never_more_than_there_are():
    # The reproduction: "1 of 0 residents react outwardly" came from figures typed in by hand.
    offer = make_offer(mix=resident_mix_of([frozenset({Trait.UDADREAGERENDE})]))
    [m] = match_offers([offer], CitizenProfile(age=30, traits=frozenset({Trait.TILBAGETRUKKET})))
    assert m.warnings == ("1 af de 1 beboere, visitationen har anbragt, er udadreagerende; en tilbagetrukket borger "
                          "bør ikke bo blandt udadreagerende beboere",)
    [m] = match_offers([make_offer(mix=resident_mix_of([]))], CitizenProfile(age=30, traits=frozenset({Trait.TILBAGETRUKKET})))
    assert m.warnings == ()
