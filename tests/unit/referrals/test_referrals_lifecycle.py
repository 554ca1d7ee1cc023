import copy
from datetime import date, timedelta
from uuid import uuid4

import pytest

from referrals_builders import PROFILE_30, T0, at, granted_case, make_offer, new_case, placed_case, screened_case
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.errors import InvalidInput, StateConflict
from services.referrals.domain.model import CaseStatus, LegalBasis, Trait, VumTheme
from services.referrals.domain.offers import CitizenProfile, TargetGroup


def grant_kw(**kw):
    d = dict(profile=PROFILE_30, start_date=date(2026, 2, 1), follow_up_date=None,
             reason="Borgeren har brug for døgnstøtte.", by="vis-1", at=at(10))
    d.update(kw)
    return d


def test_transition_table_is_closed_and_terminal_states_have_no_exit():
    assert set(lc.ALLOWED_TRANSITIONS) == set(CaseStatus)
    assert lc.ALLOWED_TRANSITIONS[CaseStatus.ENDED] == frozenset()
    assert lc.ALLOWED_TRANSITIONS[CaseStatus.WITHDRAWN] == frozenset()
    for targets in lc.ALLOWED_TRANSITIONS.values():
        assert CaseStatus.RECEIVED not in targets  # nothing goes back to 'received'


def test_intake_records_who_when_why():
    case = new_case()
    assert case.status is CaseStatus.RECEIVED
    [entry] = case.history
    assert entry.by == "SOR:1234567" and entry.at == T0 and entry.from_status is None


@pytest.mark.parametrize("step", [0, 8, -1, 3.5, True, "6"])
def test_intake_refuses_requested_step_outside_1_to_7(step):
    with pytest.raises(InvalidInput, match="1 til 7"):
        new_case(requested_step=step)


def test_intake_needs_a_reason():
    with pytest.raises(InvalidInput, match="egrundelse"):
        new_case(reason="   ")


def test_full_happy_path_history():
    case, offer = placed_case()
    actions = [h.action for h in case.history]
    assert actions == ["received", "screening-started", "assessment-recorded", "granted", "moved-in"]
    statuses = [h.to_status for h in case.history]
    assert statuses[-2:] == [CaseStatus.GRANTED, CaseStatus.PLACED]
    assert case.placement.follow_up_date == date(2026, 2, 1) + timedelta(days=182)


def test_second_assessment_is_a_revision():
    case = screened_case()
    e = lc.record_assessment(case, scores={"egenomsorg": 4}, wishes="Ro", needs=None, resources=None, by="v", at=at(8))
    assert e.action == "assessment-revised" and case.assessment.scores == {VumTheme.EGENOMSORG: 4}


def test_assessment_on_a_received_case_starts_screening():
    case = new_case()
    entry = lc.record_assessment(case, scores={"egenomsorg": 2}, wishes="Ro", needs=None, resources=None,
                                 by="vis-1", at=at(6))
    assert entry.from_status is CaseStatus.RECEIVED and case.status is CaseStatus.SCREENING
    assert case.assessment.scores == {VumTheme.EGENOMSORG: 2}


@pytest.mark.parametrize(
    "scores,match",
    [({}, "mindst ét tema"), ({"egenomsorg": 5}, "0–4"), ({"egenomsorg": -1}, "0–4"),
     ({"egenomsorg": 2.5}, "0–4"), ({"egenomsorg": True}, "0–4"), ({"humør": 2}, "Ukendt VUM-tema")],
)
def test_assessment_scores_are_0_to_4_on_known_themes(scores, match):
    case = new_case()
    with pytest.raises(InvalidInput, match=match):
        lc.record_assessment(case, scores=scores, wishes="x", needs=None, resources=None, by="v", at=at(6))
    assert case.status is CaseStatus.RECEIVED and case.assessment is None


def test_assessment_needs_the_citizens_own_wishes_and_known_traits():
    case = new_case()
    with pytest.raises(InvalidInput, match="ønsker"):
        lc.record_assessment(case, scores={"egenomsorg": 1}, wishes=" ", needs=None, resources=None, by="v", at=at(6))
    with pytest.raises(InvalidInput, match="Ukendt kendetegn"):
        lc.record_assessment(case, scores={"egenomsorg": 1}, wishes="x", needs=None, resources=None,
                             traits=["aggressiv"], by="v", at=at(6))


def test_cannot_grant_without_assessment():
    case = new_case()
    lc.start_screening(case, by="v", at=at(6))
    with pytest.raises(StateConflict, match="vurdering"):
        lc.grant(case, offer=make_offer(), **grant_kw())


def test_cannot_grant_a_received_case_directly():
    case = new_case()
    with pytest.raises(StateConflict, match="'modtaget'"):
        lc.grant(case, offer=make_offer(), **grant_kw())


def test_deciding_an_already_decided_case_is_a_conflict_and_changes_nothing():
    case, offer = granted_case()
    before = copy.deepcopy(case)
    with pytest.raises(StateConflict, match="allerede afgjort den 10.01.2026"):
        lc.grant(case, offer=offer, **grant_kw())
    with pytest.raises(StateConflict, match="allerede afgjort"):
        lc.refuse(case, reason="nej", legal_basis=LegalBasis.SEL_108, by="v", at=at(11))
    assert case == before


def test_refused_case_needs_reopening_before_a_new_decision():
    case = screened_case()
    lc.refuse(case, reason="Behovet kan dækkes med bostøtte.", legal_basis=LegalBasis.SEL_108, by="v", at=at(10))
    assert "Ankestyrelsen" in case.refusal.complaint_guidance
    with pytest.raises(StateConflict, match="genvurdering"):
        lc.grant(case, offer=make_offer(), **grant_kw())
    lc.reopen_for_reassessment(case, reason="Klage modtaget; ny lægeerklæring.", by="v", at=at(12))
    lc.grant(case, offer=make_offer(), **grant_kw(at=at(13)))
    assert case.status is CaseStatus.GRANTED and case.refusal is None
    assert [h.action for h in case.history][-3:] == ["refused", "reopened", "granted"]


def test_refusal_needs_a_reason():
    case = screened_case()
    with pytest.raises(InvalidInput, match="egrundelse"):
        lc.refuse(case, reason="", legal_basis=LegalBasis.SEL_108, by="v", at=at(10))
    assert case.status is CaseStatus.SCREENING


def test_grant_takes_step_and_legal_basis_from_the_offer_and_checks_explicit_ones():
    case = screened_case()
    with pytest.raises(InvalidInput, match="trin 7 .* ikke trin 6"):
        lc.grant(case, offer=make_offer(), step=6, **grant_kw())
    with pytest.raises(InvalidInput, match="efter SEL §108, ikke SEL §107"):
        lc.grant(case, offer=make_offer(), legal_basis=LegalBasis.SEL_107, **grant_kw())
    with pytest.raises(InvalidInput, match="1 til 7"):
        lc.grant(case, offer=make_offer(), step=9, **grant_kw())
    assert case.status is CaseStatus.SCREENING and case.grant is None


def test_grant_in_a_full_offer_is_refused_unless_joining_the_waitlist():
    full = make_offer(approved_places=20, occupied=19, reserved=1)
    case = screened_case()
    with pytest.raises(StateConflict, match="ingen ledig plads .*20 godkendte pladser, 19 optagne, 1 reserverede"):
        lc.grant(case, offer=full, **grant_kw())
    assert case.status is CaseStatus.SCREENING
    lc.grant(case, offer=full, join_waitlist=True, **grant_kw())
    assert case.status is CaseStatus.WAITING and case.grant.waitlisted


def test_grant_outside_target_group_needs_a_professional_override():
    offer = make_offer(target_group=TargetGroup(min_age=18, max_age=30, requires=frozenset({Trait.DOBBELTDIAGNOSE})))
    case = screened_case()
    old = CitizenProfile(age=45)
    with pytest.raises(StateConflict, match="slutter ved 30 år; borgeren er 45; målgruppen kræver dobbeltdiagnose"):
        lc.grant(case, offer=offer, **grant_kw(profile=old))
    lc.grant(case, offer=offer, target_group_override="Eneste tilbud med nattevagt; aftalt med lederen.",
             **grant_kw(profile=old))
    assert case.grant.target_group_override.startswith("Eneste")


def test_step_1_needs_no_visitation():
    step1 = make_offer(offer_id="cafe", name="Natcafé", legal_basis=LegalBasis.SEL_85, step=1)
    with pytest.raises(InvalidInput, match="trin 1"):
        lc.grant(screened_case(), offer=step1, **grant_kw())


def test_closed_offer_cannot_be_granted():
    with pytest.raises(StateConflict, match="lukket"):
        lc.grant(screened_case(), offer=make_offer(active=False), **grant_kw())


def test_start_date_not_before_referral():
    with pytest.raises(InvalidInput, match="Startdatoen"):
        lc.grant(screened_case(), offer=make_offer(), **grant_kw(start_date=T0.date() - timedelta(days=1)))


def test_temporary_107_stays_must_be_followed_up_within_6_months():
    offer107 = make_offer(offer_id="cirklen-107", name="Cirklen", legal_basis=LegalBasis.SEL_107, step=6,
                          approved_places=8, occupied=2)
    start = date(2026, 2, 1)
    with pytest.raises(InvalidInput, match="inden for 183 dage.*senest 2026-08-03"):
        lc.grant(screened_case(), offer=offer107, **grant_kw(follow_up_date=start + timedelta(days=200)))
    case = screened_case()
    lc.grant(case, offer=offer107, **grant_kw())
    assert case.grant.follow_up_date == start + timedelta(days=91)
    # a long-term place may wait up to a year
    lc.grant(screened_case(), offer=make_offer(), **grant_kw(follow_up_date=start + timedelta(days=300)))


def test_follow_up_must_be_after_start():
    with pytest.raises(InvalidInput, match="efter startdatoen"):
        lc.grant(screened_case(), offer=make_offer(), **grant_kw(follow_up_date=date(2026, 2, 1)))


def test_waitlist_then_reserve_then_move_in():
    full = make_offer(approved_places=2, occupied=2)
    case = screened_case()
    lc.grant(case, offer=full, join_waitlist=True, **grant_kw())
    with pytest.raises(StateConflict, match="bliver på ventelisten"):
        lc.move_in(case, offer=full, moved_in_on=date(2026, 3, 1), by="v", at=at(1, 3))
    with pytest.raises(StateConflict, match="stadig ingen ledig plads"):
        lc.reserve_place(case, offer=full, by="v", at=at(1, 3))
    freed = make_offer(approved_places=2, occupied=1)
    lc.reserve_place(case, offer=freed, by="v", at=at(1, 3))
    assert case.status is CaseStatus.GRANTED
    # the reserved place counts in 'reserved' now: the offer may look full, the move-in still goes ahead
    lc.move_in(case, offer=make_offer(approved_places=2, occupied=1, reserved=1), moved_in_on=date(2026, 3, 2),
               by="v", at=at(2, 3))
    assert case.status is CaseStatus.PLACED


def test_waiting_case_moves_in_directly_when_a_place_is_free():
    case = screened_case()
    lc.grant(case, offer=make_offer(approved_places=1, occupied=1), join_waitlist=True, **grant_kw())
    lc.move_in(case, offer=make_offer(approved_places=1, occupied=0), moved_in_on=date(2026, 3, 1), by="v", at=at(1, 3))
    assert case.status is CaseStatus.PLACED


def test_release_place_puts_a_granted_case_on_the_waitlist():
    case, _ = granted_case()
    with pytest.raises(InvalidInput):
        lc.release_place(case, reason="", by="v", at=at(11))
    lc.release_place(case, reason="Indflytning udskudt efter ønske.", by="v", at=at(11))
    assert case.status is CaseStatus.WAITING


def test_move_in_must_be_to_the_granted_offer():
    case, _ = granted_case()
    other = make_offer(offer_id="orion-108", name="Orion")
    with pytest.raises(InvalidInput, match="ny afgørelse"):
        lc.move_in(case, offer=other, moved_in_on=date(2026, 2, 1), by="v", at=at(1, 2))


def test_move_in_after_the_granted_follow_up_date_needs_a_new_one():
    case, offer = granted_case()
    late = case.grant.follow_up_date + timedelta(days=1)
    with pytest.raises(InvalidInput, match="angiv en ny follow_up_date"):
        lc.move_in(case, offer=offer, moved_in_on=late, by="v", at=at(1, 9))
    lc.move_in(case, offer=offer, moved_in_on=late, follow_up_date=late + timedelta(days=60), by="v", at=at(1, 9))
    assert case.placement.follow_up_date == late + timedelta(days=60)


@pytest.mark.parametrize("status_builder", ["new", "screened", "granted"])
def test_withdraw_before_move_in(status_builder):
    case = {"new": new_case, "screened": screened_case, "granted": lambda: granted_case()[0]}[status_builder]()
    lc.withdraw(case, reason="Borgeren ønsker ikke længere et botilbud.", by="v", at=at(12))
    assert case.status is CaseStatus.WITHDRAWN


def test_cannot_withdraw_after_move_in_or_act_on_a_closed_case():
    case, offer = placed_case()
    with pytest.raises(StateConflict, match="kun gå til: afsluttet"):
        lc.withdraw(case, reason="x", by="v", at=at(12))
    w = new_case()
    lc.withdraw(w, reason="Fejlhenvisning", by="v", at=at(6))
    with pytest.raises(StateConflict, match="lukket .*ny henvisning"):
        lc.start_screening(w, by="v", at=at(7))


def test_internal_notes_are_kept_apart_from_the_reason():
    case = screened_case()
    e = lc.refuse(case, reason="Behovet dækkes af bostøtte.", legal_basis=LegalBasis.SEL_108, by="v", at=at(10),
                  internal_note="Lederen var uenig.")
    assert e.reason == "Behovet dækkes af bostøtte." and e.internal_note == "Lederen var uenig."


def test_case_ids_are_kept():
    cid = uuid4()
    assert new_case(case_id=cid).case_id == cid
