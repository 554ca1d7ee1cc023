"""Issue 15, step-down that moves the citizen: the case continues at the receiving offer (placed, or on
its waitlist), both cases linked; a ``to_step`` that contradicts the move-out plan is refused with the
reason, never replaced. The reproduction: ending "stepped down" with a plan to a step-4 offer replaced
the requested to_step 7 by 4 without saying so, and the receiving offer got nothing."""

import copy
from datetime import date, datetime, timezone
from uuid import uuid4

import pytest

from referrals_builders import make_offer, placed_case
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.errors import InvalidInput, StateConflict
from services.referrals.domain.model import CaseStatus, Destination, EndCause, LegalBasis, Trait
from services.referrals.domain.offers import CitizenProfile, TargetGroup

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=timezone.utc)
FLEX = make_offer(offer_id="flex-85", name="Fleksibel bostøtte", botilbud_id=None, legal_basis=LegalBasis.SEL_85,
                  step=4, approved_places=20, occupied=3)
HOSTEL = make_offer(offer_id="bostotte-85", name="Bostøtte Nord", botilbud_id=None, legal_basis=LegalBasis.SEL_85,
                    step=3, approved_places=50, occupied=10)


def planned_to(offer):
    case, _ = placed_case()
    lc.plan_move_out(case, destination=Destination.OFFER, receiving_offer=offer, planned_on=date(2026, 9, 1),
                     by="v", at=NOW)
    return case


def test_a_to_step_contradicting_the_plan_is_refused_not_replaced():
    case = planned_to(FLEX)
    before = copy.deepcopy(case)
    with pytest.raises(InvalidInput, match=r"to_step 7 passer ikke .* trin 4 af indsatstrappen \(efter udflytningsplanen\)"):
        lc.end_placement(case, ended_on=date(2026, 9, 1), cause=EndCause.STEPPED_DOWN, receiving_offer=FLEX,
                         to_step=7, by="v", at=NOW)
    assert case == before
    lc.end_placement(case, ended_on=date(2026, 9, 1), cause=EndCause.STEPPED_DOWN, receiving_offer=FLEX, to_step=4,
                     by="v", at=NOW)
    assert case.ending.to_step == 4


def test_another_receiving_offer_than_the_plan_names_is_refused():
    case = planned_to(FLEX)
    with pytest.raises(InvalidInput, match="Udflytningsplanen nævner 'flex-85'.*Ret udflytningsplanen"):
        lc.end_placement(case, ended_on=date(2026, 9, 1), receiving_offer=HOSTEL, by="v", at=NOW)
    assert case.status is CaseStatus.PLACED


def test_a_to_step_contradicting_an_own_home_plan_is_refused():
    case, _ = placed_case()
    lc.plan_move_out(case, destination=Destination.OWN_HOME, receiving_step=3, planned_on=date(2026, 9, 1), by="v", at=NOW)
    with pytest.raises(InvalidInput, match="to_step 4 passer ikke med udflytningsplanen, som siger trin 3"):
        lc.end_placement(case, ended_on=date(2026, 9, 1), to_step=4, by="v", at=NOW)


def test_the_case_continues_at_the_receiving_offer_with_a_free_place():
    case = planned_to(FLEX)
    lc.end_placement(case, ended_on=date(2026, 8, 31), receiving_offer=FLEX, by="v", at=NOW)
    assert lc.opens_case_at_receiving_offer(case, FLEX)
    new = lc.continue_at_receiving_offer(case, case_id=uuid4(), offer=FLEX, profile=CitizenProfile(age=30),
                                         by="v", at=NOW)
    assert new.status is CaseStatus.PLACED and new.placement.offer_id == "flex-85"
    assert new.placement.moved_in_on == date(2026, 8, 31) and new.placement.step == 4
    assert (new.continued_from, case.continued_in) == (case.case_id, new.case_id)
    assert new.citizen_id == case.citizen_id and new.assessment == case.assessment
    assert [h.action for h in new.history] == ["continued-from", "assessment-carried-over", "granted", "moved-in"]
    assert "et trin ned" in new.history[2].reason
    assert case.history[-1].action == "continued-in" and case.status is CaseStatus.ENDED


def test_a_full_receiving_offer_puts_the_citizen_on_its_waitlist():
    full = make_offer(offer_id="flex-85", name="Fleksibel bostøtte", botilbud_id=None, legal_basis=LegalBasis.SEL_85,
                      step=4, approved_places=2, occupied=2)
    case = planned_to(full)
    lc.end_placement(case, ended_on=date(2026, 9, 1), receiving_offer=full, by="v", at=NOW)
    new = lc.continue_at_receiving_offer(case, case_id=uuid4(), offer=full, profile=CitizenProfile(age=30), by="v", at=NOW)
    assert new.status is CaseStatus.WAITING and new.grant.waitlisted and new.placement is None


def test_the_receiving_offer_target_group_still_applies():
    picky = make_offer(offer_id="flex-85", name="Fleksibel bostøtte", botilbud_id=None, legal_basis=LegalBasis.SEL_85,
                       step=4, approved_places=20, occupied=0,
                       target_group=TargetGroup(excludes=frozenset({Trait.MISBRUG})))
    case = planned_to(picky)
    lc.end_placement(case, ended_on=date(2026, 9, 1), receiving_offer=picky, by="v", at=NOW)
    profile = CitizenProfile(age=30, traits=frozenset({Trait.MISBRUG}))
    with pytest.raises(StateConflict, match="target_group_override"):
        lc.continue_at_receiving_offer(case, case_id=uuid4(), offer=picky, profile=profile, by="v", at=NOW)
    new = lc.continue_at_receiving_offer(case, case_id=uuid4(), offer=picky, profile=profile, by="v", at=NOW,
                                         target_group_override="Misbruget er i ro; bostøtten kender borgeren.")
    assert new.status is CaseStatus.PLACED


def test_no_case_opens_for_a_move_home_or_to_a_step_1_offer():
    case, _ = placed_case()
    lc.end_placement(case, ended_on=date(2026, 9, 1), destination=Destination.OWN_HOME, to_step=3, by="v", at=NOW)
    assert not lc.opens_case_at_receiving_offer(case, None)
    step1 = make_offer(offer_id="cafe", name="Natcafé", botilbud_id=None, legal_basis=LegalBasis.SEL_85, step=1,
                       approved_places=10)
    case, _ = placed_case()
    lc.end_placement(case, ended_on=date(2026, 9, 1), destination=Destination.OFFER, receiving_offer=step1, by="v", at=NOW)
    assert not lc.opens_case_at_receiving_offer(case, step1)  # step 1 needs no visitation
    assert not lc.opens_case_at_receiving_offer(case, HOSTEL)  # not the offer the citizen moved to
