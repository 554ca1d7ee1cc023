from datetime import date, timedelta

import pytest

from referrals_builders import WITHDRAWN_PROFILE, at, granted_case, make_offer, mixed_home, screened_case
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.errors import InvalidInput
from services.referrals.domain.model import CaseStatus, LegalBasis, Trait
from services.referrals.domain.offers import (
    CitizenProfile,
    ResidentMix,
    TargetGroup,
    match_offers,
    percentile,
    validate_offer,
    waitlist_for,
)

VISTA = make_offer(offer_id="vista-108", name="Vista Hus", botilbud_id="vista", approved_places=5, occupied=5,
                   target_group=TargetGroup(requires=frozenset({Trait.DOBBELTDIAGNOSE, Trait.BEHANDLINGSDOM})))
CIRKLEN = make_offer(offer_id="cirklen-107", name="Cirklen", botilbud_id="cirklen", legal_basis=LegalBasis.SEL_107,
                     step=6, approved_places=8, occupied=6, target_group=TargetGroup(min_age=18, max_age=30))
TANGKAER = make_offer()


def by_name(matches):
    return {m.offer.name: m for m in matches}


def test_fitting_offers_free_places_and_exclusion_reasons():
    young = CitizenProfile(age=24)
    m = by_name(match_offers([VISTA, CIRKLEN, TANGKAER], young))
    assert m["Cirklen"].fits and m["Cirklen"].free_places == 2
    assert m["Tangkær"].fits and m["Tangkær"].free_places == 3
    assert not m["Vista Hus"].fits
    assert m["Vista Hus"].exclusions == ("målgruppen kræver behandlingsdom, dobbeltdiagnose",)


def test_full_offer_still_fits_but_sorts_after_offers_with_places():
    dual = CitizenProfile(age=40, traits=frozenset({Trait.DOBBELTDIAGNOSE, Trait.BEHANDLINGSDOM}))
    result = match_offers([VISTA, TANGKAER, CIRKLEN], dual)
    assert [m.offer.name for m in result] == ["Tangkær", "Vista Hus", "Cirklen"]
    assert result[1].fits and result[1].free_places == 0
    assert result[2].exclusions == ("målgruppen slutter ved 30 år; borgeren er 40",)


def test_step_and_legal_basis_narrow_the_search():
    m = by_name(match_offers([CIRKLEN, TANGKAER], CitizenProfile(age=25), step=6))
    assert m["Cirklen"].fits
    assert m["Tangkær"].exclusions == ("tilbuddet ligger på trin 7; sagen vurderes til trin 6",)
    m = by_name(match_offers([CIRKLEN, TANGKAER], CitizenProfile(age=25), legal_basis=LegalBasis.SEL_108))
    assert not m["Cirklen"].fits and m["Tangkær"].fits
    with pytest.raises(InvalidInput):
        match_offers([TANGKAER], CitizenProfile(age=25), step=0)


def test_exclusion_criteria_and_closed_offers():
    no_drugs = make_offer(name="Rolig", target_group=TargetGroup(excludes=frozenset({Trait.MISBRUG})), active=False)
    [m] = match_offers([no_drugs], CitizenProfile(age=30, traits=frozenset({Trait.MISBRUG})))
    assert m.exclusions == ("tilbuddet er lukket for nye henvisninger", "målgruppen udelukker misbrug")


def test_unknown_age_does_not_exclude_on_age():
    [m] = match_offers([CIRKLEN], CitizenProfile(age=None))
    assert m.fits


def test_withdrawn_citizen_is_warned_about_drug_using_and_outward_reacting_residents():
    [m] = match_offers([mixed_home()], WITHDRAWN_PROFILE)
    assert m.fits  # a warning, not an exclusion: visitation decides
    assert len(m.warnings) == 2
    assert "2 af de 19 beboere, visitationen har anbragt, er udadreagerende" in m.warnings[0]
    assert "12 af de 19 beboere, visitationen har anbragt, har et misbrug" in m.warnings[1]


def test_the_clash_is_warned_from_the_other_side_too():
    quiet = make_offer(name="Stille", mix=ResidentMix(residents=10, withdrawn=6))
    [m] = match_offers([quiet], CitizenProfile(age=30, traits=frozenset({Trait.UDADREAGERENDE})))
    assert m.warnings and "6 af de 10 beboere, visitationen har anbragt, er tilbagetrukne" in m.warnings[0]
    [m] = match_offers([quiet], CitizenProfile(age=30))
    assert m.warnings == ()


def test_offer_with_warnings_sorts_after_an_equal_offer_without():
    calm = make_offer(offer_id="calm", name="Zzz rolig")
    result = match_offers([mixed_home(), calm], WITHDRAWN_PROFILE)
    assert result[0].offer.name == "Zzz rolig"


def test_free_places_never_negative_when_overbooked():
    over = make_offer(approved_places=10, occupied=10, reserved=2)
    assert over.free_places == 0 and over.full


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(legal_basis=LegalBasis.SEL_107, step=7), "SEL §107 ligger på trin 6"),
        (dict(legal_basis=LegalBasis.SEL_108, step=6), "SEL §108 ligger på trin 7"),
        (dict(step=8), "1 til 7"),
        (dict(approved_places=-1), "negativt"),
        (dict(target_group=TargetGroup(min_age=16)), "18"),
        (dict(target_group=TargetGroup(min_age=40, max_age=30)), "over dens maksimumsalder"),
        (dict(target_group=TargetGroup(requires=frozenset({Trait.MISBRUG}), excludes=frozenset({Trait.MISBRUG}))),
         "både være et krav og udelukket"),
        (dict(name=" "), "navn"),
    ],
)
def test_offer_validation(kw, match):
    with pytest.raises(InvalidInput, match=match):
        validate_offer(make_offer(**kw))


def test_valid_offers_pass():
    for offer in (VISTA, CIRKLEN, TANGKAER, make_offer(legal_basis=LegalBasis.ABL_105_SEL_85, step=6),
                  make_offer(legal_basis=LegalBasis.SEL_85, step=4)):
        assert validate_offer(offer) is offer


def test_waitlist_orders_by_grant_time_and_counts_waiting_days():
    full = make_offer(approved_places=1, occupied=1)
    first = screened_case()
    lc.grant(first, offer=full, profile=CitizenProfile(age=30), start_date=date(2026, 2, 1), follow_up_date=None,
             reason="r", by="v", at=at(10), join_waitlist=True)
    second = screened_case()
    lc.grant(second, offer=full, profile=CitizenProfile(age=30), start_date=date(2026, 2, 1), follow_up_date=None,
             reason="r", by="v", at=at(9), join_waitlist=True)
    reserved, _ = granted_case(make_offer())
    other_offer, _ = granted_case(make_offer(offer_id="orion-108", name="Orion"))
    refused = screened_case()
    lc.refuse(refused, reason="nej", legal_basis=LegalBasis.SEL_108, by="v", at=at(10))
    wl = waitlist_for("tangkaer-108", [first, second, reserved, other_offer, refused], today=date(2026, 3, 1))
    assert [e.case_id for e in wl.entries] == [reserved.case_id, second.case_id, first.case_id]
    assert [e.queue_position for e in wl.entries] == [None, 1, 2]
    assert [e.place_reserved for e in wl.entries] == [True, False, False]
    e = wl.entries[1]
    assert e.days_since_referral == (date(2026, 3, 1) - date(2026, 1, 5)).days == 55
    assert e.days_since_grant == 51
    assert wl.median_days_waiting == 55 and wl.longest_days_waiting == 55


def test_empty_waitlist():
    wl = waitlist_for("nothing", [], today=date(2026, 3, 1))
    assert wl.entries == () and wl.median_days_waiting is None


def test_placed_cases_leave_the_waitlist():
    case, offer = granted_case()
    lc.move_in(case, offer=offer, moved_in_on=date(2026, 2, 1), by="v", at=at(1, 2))
    assert waitlist_for(offer.offer_id, [case], today=date(2026, 3, 1)).entries == ()
    assert case.status is CaseStatus.PLACED


@pytest.mark.parametrize(
    "values,pct,expected",
    [([], 50, None), ([7], 90, 7.0), ([1, 2, 3, 4], 50, 2.5), (list(range(1, 11)), 90, 9.1), ([5, 1, 3], 50, 3.0),
     ([10, 20], 0, 10.0), ([10, 20], 100, 20.0)],
)
def test_percentile_matches_percentile_cont(values, pct, expected):
    assert percentile(values, pct) == pytest.approx(expected) if expected is not None else percentile(values, pct) is None


def test_percentile_range():
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_waiting_days_span_whole_days():
    from services.referrals.domain.offers import waiting_days
    assert waiting_days(at(5), date(2026, 1, 5)) == 0
    assert waiting_days(date(2026, 1, 5), date(2026, 1, 4)) == 0
    assert waiting_days(date(2026, 1, 5), date(2026, 1, 5) + timedelta(days=30)) == 30
