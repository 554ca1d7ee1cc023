"""Movement down the ladder: follow-ups, move-out plans with phase-out visits, ending a placement."""

import copy
from datetime import date, timedelta

import pytest

from referrals_builders import at, make_offer, placed_case
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.errors import InvalidInput, StateConflict
from services.referrals.domain.model import CaseStatus, Destination, EndCause, LegalBasis

HOSTEL = make_offer(offer_id="bostotte-85", name="Bostøtte Nord", botilbud_id=None, legal_basis=LegalBasis.SEL_85,
                    step=3, approved_places=50, occupied=10)
OTHER_108 = make_offer(offer_id="orion-108", name="Orion", botilbud_id="orion")
TEMP = make_offer(offer_id="cirklen-107", name="Cirklen", botilbud_id="cirklen", legal_basis=LegalBasis.SEL_107,
                  step=6, approved_places=8, occupied=1)


def test_follow_up_due_only_for_placed_cases_and_once_per_date():
    case, _ = placed_case()
    due = case.placement.follow_up_date
    assert not lc.follow_up_due(case, due - timedelta(days=1))
    assert lc.follow_up_due(case, due - timedelta(days=14), lead_days=14)
    assert lc.follow_up_due(case, due)
    assert lc.follow_up_due(case, due + timedelta(days=30))  # overdue stays due until signalled
    lc.mark_follow_up_signalled(case)
    assert not lc.follow_up_due(case, due + timedelta(days=30))


def test_recording_a_follow_up_sets_the_next_one_and_re_arms_the_signal():
    case, _ = placed_case()
    lc.mark_follow_up_signalled(case)
    held = case.placement.follow_up_date
    lc.record_follow_up(case, held_on=held, next_follow_up_date=held + timedelta(days=100), by="v", at=at(1, 9),
                        note="Går godt; mål justeret.")
    assert case.placement.follow_ups_held == (held,)
    assert lc.follow_up_due(case, held + timedelta(days=100))
    assert case.history[-1].internal_note == "Går godt; mål justeret."


def test_temporary_stay_follow_up_limit_applies_to_every_follow_up():
    case, _ = placed_case(TEMP)
    held = date(2026, 4, 1)
    with pytest.raises(InvalidInput, match="midlertidigt ophold følges op inden for 183 dage"):
        lc.record_follow_up(case, held_on=held, next_follow_up_date=held + timedelta(days=365), by="v", at=at(1, 4))
    with pytest.raises(InvalidInput, match="efter den holdte opfølgning"):
        lc.record_follow_up(case, held_on=held, next_follow_up_date=held, by="v", at=at(1, 4))
    with pytest.raises(InvalidInput, match="før indflytningsdatoen"):
        lc.record_follow_up(case, held_on=date(2026, 1, 20), next_follow_up_date=held, by="v", at=at(1, 4))


def test_no_follow_up_on_a_case_not_placed():
    from referrals_builders import granted_case
    case, _ = granted_case()
    assert not lc.follow_up_due(case, date(2030, 1, 1))
    with pytest.raises(StateConflict, match="ikke indflyttet"):
        lc.record_follow_up(case, held_on=date(2026, 3, 1), next_follow_up_date=date(2026, 5, 1), by="v", at=at(1, 3))


def test_move_out_plan_to_a_lower_step_and_phase_out_visits():
    case, _ = placed_case()
    entry, warnings = lc.plan_move_out(case, destination=Destination.OFFER, receiving_offer=HOSTEL,
                                       planned_on=date(2026, 9, 1), by="v", at=at(1, 8))
    assert warnings == []
    assert case.move_out_plan.receiving_step == 3 and case.move_out_plan.phase_out_visits_planned == 4
    assert case.status is CaseStatus.PLACED and entry.action == "move-out-planned"
    assert "Bostøtte Nord" in entry.reason
    lc.record_phase_out_visit(case, visited_on=date(2026, 9, 10), by="v", at=at(10, 9))
    lc.record_phase_out_visit(case, visited_on=date(2026, 9, 3), by="v", at=at(10, 9))
    assert case.move_out_plan.phase_out_visits_done == (date(2026, 9, 3), date(2026, 9, 10))


def test_move_out_plan_warns_on_few_visits_and_on_a_transfer():
    case, _ = placed_case()
    _, warnings = lc.plan_move_out(case, destination=Destination.OFFER, receiving_offer=OTHER_108,
                                   planned_on=date(2026, 9, 1), phase_out_visits_planned=2, by="v", at=at(1, 8))
    assert len(warnings) == 2 and "4–5 besøg" in warnings[0] and "ikke en nedtrapning" in warnings[1]


def test_replanning_keeps_visits_already_done():
    case, _ = placed_case()
    lc.plan_move_out(case, destination=Destination.OWN_HOME, receiving_step=3, planned_on=date(2026, 9, 1), by="v", at=at(1, 8))
    lc.record_phase_out_visit(case, visited_on=date(2026, 9, 5), by="v", at=at(5, 9))
    lc.plan_move_out(case, destination=Destination.OWN_HOME, receiving_step=3, planned_on=date(2026, 10, 1), by="v", at=at(6, 9))
    assert case.move_out_plan.planned_on == date(2026, 10, 1)
    assert case.move_out_plan.phase_out_visits_done == (date(2026, 9, 5),)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(destination=Destination.OFFER), "kræver receiving_offer_id"),
        (dict(destination=Destination.OWN_HOME, receiving_offer=HOSTEL), "gælder kun"),
        (dict(destination=Destination.OFFER, receiving_offer=make_offer()), "allerede bor i"),
        (dict(destination=Destination.OFFER, receiving_offer=HOSTEL, receiving_step=4), "trin 3, ikke 4"),
        (dict(destination=Destination.OWN_HOME, receiving_step=0), "1 til 7"),
        (dict(destination=Destination.OWN_HOME, phase_out_visits_planned=-1), "mellem 0 og"),
        (dict(destination=Destination.OWN_HOME, planned_on=date(2026, 1, 1)), "før indflytningsdatoen"),
    ],
)
def test_move_out_plan_validation(kw, match):
    case, _ = placed_case()
    before = copy.deepcopy(case)
    kw.setdefault("planned_on", date(2026, 9, 1))
    with pytest.raises(InvalidInput, match=match):
        lc.plan_move_out(case, by="v", at=at(1, 8), **kw)
    assert case == before


def test_phase_out_visit_needs_a_plan():
    case, _ = placed_case()
    with pytest.raises(StateConflict, match="ingen udflytningsplan"):
        lc.record_phase_out_visit(case, visited_on=date(2026, 9, 1), by="v", at=at(1, 9))


def test_ending_with_the_plan_derives_a_step_down():
    case, _ = placed_case()
    lc.plan_move_out(case, destination=Destination.OFFER, receiving_offer=HOSTEL, planned_on=date(2026, 9, 1), by="v", at=at(1, 8))
    lc.end_placement(case, ended_on=date(2026, 9, 1), receiving_offer=HOSTEL, by="v", at=at(1, 9))
    e = case.ending
    assert case.status is CaseStatus.ENDED
    assert (e.cause, e.destination, e.from_step, e.to_step, e.stepped_down) == (
        EndCause.STEPPED_DOWN, Destination.OFFER, 7, 3, True)


def test_ending_to_own_home_uses_the_planned_step():
    case, _ = placed_case()
    lc.plan_move_out(case, destination=Destination.OWN_HOME, receiving_step=3, planned_on=date(2026, 9, 1), by="v", at=at(1, 8))
    lc.end_placement(case, ended_on=date(2026, 9, 2), by="v", at=at(2, 9))
    assert case.ending.cause is EndCause.STEPPED_DOWN and case.ending.to_step == 3


def test_ending_without_a_plan_needs_a_destination_except_death():
    case, _ = placed_case()
    with pytest.raises(InvalidInput, match="Angiv, hvor"):
        lc.end_placement(case, ended_on=date(2026, 9, 1), by="v", at=at(1, 9))
    lc.end_placement(case, ended_on=date(2026, 9, 1), cause=EndCause.DIED, by="v", at=at(1, 9))
    assert case.ending.destination is Destination.OTHER and not case.ending.stepped_down


def test_own_home_without_a_step_is_a_move_out():
    case, _ = placed_case()
    lc.end_placement(case, ended_on=date(2026, 9, 1), destination=Destination.OWN_HOME, by="v", at=at(1, 9))
    assert case.ending.cause is EndCause.MOVED_OUT and case.ending.to_step is None


def test_transfer_to_the_same_step():
    case, _ = placed_case()
    lc.end_placement(case, ended_on=date(2026, 9, 1), destination=Destination.OFFER, receiving_offer=OTHER_108,
                     by="v", at=at(1, 9))
    assert case.ending.cause is EndCause.TRANSFERRED and not case.ending.stepped_down


def test_cause_must_agree_with_the_steps():
    case, _ = placed_case()
    with pytest.raises(InvalidInput, match="lavere trin end det nuværende trin 7"):
        lc.end_placement(case, ended_on=date(2026, 9, 1), cause=EndCause.STEPPED_DOWN,
                         destination=Destination.OFFER, receiving_offer=OTHER_108, by="v", at=at(1, 9))
    with pytest.raises(InvalidInput, match="'stepped_down'"):
        lc.end_placement(case, ended_on=date(2026, 9, 1), cause=EndCause.TRANSFERRED,
                         destination=Destination.OFFER, receiving_offer=HOSTEL, by="v", at=at(1, 9))
    assert case.status is CaseStatus.PLACED
    # "moved out" to a lower step is filed as a step down
    lc.end_placement(case, ended_on=date(2026, 9, 1), cause=EndCause.MOVED_OUT, destination=Destination.OWN_HOME,
                     to_step=3, by="v", at=at(1, 9))
    assert case.ending.cause is EndCause.STEPPED_DOWN


def test_end_date_and_receiving_offer_checks():
    case, _ = placed_case()
    with pytest.raises(InvalidInput, match="før indflytningsdatoen"):
        lc.end_placement(case, ended_on=date(2026, 1, 31), destination=Destination.OWN_HOME, by="v", at=at(1, 9))
    lc.plan_move_out(case, destination=Destination.OFFER, receiving_offer=HOSTEL, planned_on=date(2026, 9, 1), by="v", at=at(1, 8))
    with pytest.raises(InvalidInput, match="nævner det modtagende tilbud 'bostotte-85'"):
        lc.end_placement(case, ended_on=date(2026, 9, 1), by="v", at=at(1, 9))


def test_cannot_end_twice_or_end_before_move_in():
    from referrals_builders import granted_case
    case, _ = placed_case()
    lc.end_placement(case, ended_on=date(2026, 9, 1), destination=Destination.OWN_HOME, by="v", at=at(1, 9))
    with pytest.raises(StateConflict, match="lukket"):
        lc.end_placement(case, ended_on=date(2026, 9, 2), destination=Destination.OWN_HOME, by="v", at=at(2, 9))
    g, _ = granted_case()
    with pytest.raises(StateConflict, match="'bevilget'"):
        lc.end_placement(g, ended_on=date(2026, 9, 2), destination=Destination.OWN_HOME, by="v", at=at(2, 9))
