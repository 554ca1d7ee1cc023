"""Issue 15, one case per citizen: a further referral for a citizen with an open case joins it as an
addition. The reproduction: two staff referrals and one partner referral with the same CPR made three
parallel open cases."""

from datetime import datetime
from uuid import uuid4

import pytest

from referrals_builders import PARTNER, at, new_case, placed_case
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.access import Actor, View, view_of
from services.referrals.domain.errors import InvalidInput, StateConflict
from services.referrals.domain.model import CaseStatus, Channel, Destination, LegalBasis, Referrer

STAFF = Referrer(channel=Channel.STAFF, sub="vis-2", name="Visitator To")
OTHER_PARTNER = Referrer(channel=Channel.PARTNER, org="SOR:7654321", name="Distriktspsykiatrien")


def test_a_further_referral_joins_the_open_case_in_the_municipality():
    citizen = uuid4()
    first = new_case(citizen_id=citizen, municipality="København")
    assert lc.case_to_join([first], "København") is first
    assert lc.case_to_join([first], "Aarhus") is None  # another municipality's case is not joined
    assert lc.case_to_join([], "København") is None


def test_closed_cases_are_not_joined_the_newest_open_one_is():
    refused = new_case(municipality=None)
    lc.start_screening(refused, by="v", at=at(6))
    lc.refuse(refused, reason="nej", legal_basis=LegalBasis.SEL_108, by="v", at=at(7))
    assert lc.case_to_join([refused], None) is None
    ended, _ = placed_case(municipality=None)
    lc.end_placement(ended, ended_on=datetime(2026, 3, 1).date(), destination=Destination.OWN_HOME, by="v", at=at(1, 3))
    older = new_case(municipality=None, received_at=at(2))
    newer = new_case(municipality=None, received_at=at(3))
    assert lc.case_to_join([ended, newer, older, refused], None) is newer


def test_three_referrals_make_one_case_with_two_additions():
    case = new_case()
    for referrer in (STAFF, OTHER_PARTNER):
        addition = lc.add_to_case(case, addition_id=uuid4(), referrer=referrer, reason="Borgeren er hjemløs igen.",
                                  at=at(8), requested_step=6, requested_legal_basis=LegalBasis.SEL_107)
        assert addition.referrer is referrer and addition.requested_step == 6
    assert case.status is CaseStatus.RECEIVED
    assert [h.action for h in case.history] == ["received", "referral-added", "referral-added"]
    assert case.history[-1].reason == "Der er kommet en ny henvisning, som er lagt til din sag."
    assert case.added_by_orgs == {"SOR:7654321"}


def test_an_addition_needs_a_reason_and_an_open_case():
    case = new_case()
    with pytest.raises(InvalidInput, match="egrundelse"):
        lc.add_to_case(case, addition_id=uuid4(), referrer=STAFF, reason=" ", at=at(8))
    with pytest.raises(InvalidInput, match="requested_step"):
        lc.add_to_case(case, addition_id=uuid4(), referrer=STAFF, reason="r", at=at(8), requested_step=9)
    lc.withdraw(case, reason="Borgeren ønsker det ikke.", by="v", at=at(9))
    with pytest.raises(StateConflict, match="ikke åben"):
        lc.add_to_case(case, addition_id=uuid4(), referrer=STAFF, reason="r", at=at(10))


def test_the_partner_whose_referral_joined_follows_the_case():
    case = new_case(referrer=STAFF)
    other = Actor(role="partner", sub="dp", org="SOR:7654321")
    assert view_of(other, case) is View.NONE
    lc.add_to_case(case, addition_id=uuid4(), referrer=OTHER_PARTNER, reason="r", at=at(8))
    assert view_of(other, case) is View.REFERRER
    assert view_of(Actor(role="partner", sub="x", org="SOR:1111111"), case) is View.NONE
    assert view_of(Actor(role="partner", sub="p", org=PARTNER.org), new_case()) is View.REFERRER
