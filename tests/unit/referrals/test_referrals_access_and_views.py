from datetime import date

import pytest

from referrals_builders import at, granted_case, new_case, placed_case, screened_case
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.access import Actor, View, can_change, sees_cpr, sees_internal_notes, view_of
from services.referrals.domain.citizen_view import ACTION_TEXT, STATUS_TEXT, public_view
from services.referrals.domain.model import CaseStatus, Channel, LegalBasis, Referrer


def test_visitation_sees_and_changes_cases_of_their_municipality():
    case = new_case(municipality="København")
    assert view_of(Actor("v1", "visitation", municipality="København"), case) is View.FULL
    assert view_of(Actor("v1", "visitation", municipality="Aarhus"), case) is View.NONE
    assert view_of(Actor("v1", "visitation"), case) is View.FULL  # single-municipality installation
    assert can_change(Actor("v1", "visitation", municipality="København"), case)
    assert not can_change(Actor("v1", "visitation", municipality="Aarhus"), case)


def test_a_case_without_a_municipality_belongs_to_the_municipality_the_installation_serves():
    case = new_case(municipality=None)  # a partner's referral from before it got the receiving municipality
    kbh = lambda serving: Actor("v1", "visitation", municipality="København", serving=serving)
    assert view_of(kbh("København"), case) is View.FULL
    assert view_of(kbh("Aarhus"), case) is View.NONE
    # An installation that does not say whom it serves: no claim can be matched, so no claim sees it.
    assert view_of(kbh(None), case) is View.NONE
    assert not can_change(kbh(None), case)
    assert view_of(Actor("v1", "visitation"), case) is View.FULL  # staff not limited to one municipality


def test_the_installation_serves_the_configured_municipality_and_in_development_the_demos():
    from types import SimpleNamespace

    from tovholder.scopes import serving_municipality

    assert serving_municipality(SimpleNamespace(municipality="Aarhus", environment="production")) == "Aarhus"
    assert serving_municipality(SimpleNamespace(municipality=None, environment="production")) is None
    assert serving_municipality(SimpleNamespace(municipality=None, environment="test")) is None
    assert serving_municipality(SimpleNamespace(municipality=None, environment="development")) == "København"


def test_partner_sees_only_its_own_orgs_referrals_and_never_changes_them():
    case = new_case()
    assert view_of(Actor("p", "partner", org="SOR:1234567"), case) is View.REFERRER
    assert view_of(Actor("p", "partner", org="SOR:999"), case) is View.NONE
    assert view_of(Actor("p", "partner"), case) is View.NONE
    assert not can_change(Actor("p", "partner", org="SOR:1234567"), case)


def test_a_partner_does_not_see_a_staff_referral_even_with_a_matching_org_string():
    staff_case = new_case(referrer=Referrer(channel=Channel.STAFF, sub="v1", org="SOR:1234567"))
    assert view_of(Actor("p", "partner", org="SOR:1234567"), staff_case) is View.NONE


def test_coordinator_sees_placements_to_their_own_botilbud_only():
    case, _ = placed_case()
    assert view_of(Actor("c", "coordinator", botilbud="tangkaer"), case) is View.PLACEMENT
    assert view_of(Actor("c", "coordinator", botilbud="orion"), case) is View.NONE
    assert view_of(Actor("c", "coordinator", botilbud="tangkaer"), new_case()) is View.NONE
    assert not can_change(Actor("c", "coordinator", botilbud="tangkaer"), case)


def test_citizen_sees_own_case_only():
    case = new_case()
    assert view_of(Actor(str(case.citizen_id), "citizen"), case) is View.CITIZEN
    assert view_of(Actor("someone-else", "citizen"), case) is View.NONE


@pytest.mark.parametrize("role", ["nurse-consultant", "admin", "unknown"])
def test_other_roles_see_nothing(role):
    assert view_of(Actor("x", role, botilbud="tangkaer", org="SOR:1234567"), new_case()) is View.NONE


def test_only_full_view_sees_cpr_and_internal_notes():
    assert sees_cpr(View.FULL) and sees_internal_notes(View.FULL)
    for v in (View.PLACEMENT, View.REFERRER, View.CITIZEN, View.NONE):
        assert not sees_cpr(v) and not sees_internal_notes(v)


def test_every_status_and_action_has_plain_danish_text():
    assert set(STATUS_TEXT) == set(CaseStatus)
    case, _ = placed_case()
    lc.record_follow_up(case, held_on=date(2026, 4, 1), next_follow_up_date=date(2026, 9, 1), by="v", at=at(1, 4))
    for entry in case.history:
        assert entry.action in ACTION_TEXT


def test_public_view_hides_internal_notes_and_staff_identities():
    case = screened_case()
    lc.refuse(case, reason="Dit behov kan dækkes med bostøtte i egen bolig.", legal_basis=LegalBasis.SEL_108,
              by="vis-7", at=at(10), internal_note="Borgeren virkede påvirket under samtalen.")
    view = public_view(case)
    assert view.status == "refused" and "klage" in view.status_text
    assert "Ankestyrelsen" in view.complaint_guidance
    flat = repr(view)
    assert "påvirket" not in flat and "vis-7" not in flat
    assert view.history[-1].title == "Afslag" and view.history[-1].text.startswith("Dit behov")


def test_public_view_shows_next_follow_up_only_while_placed():
    case, _ = placed_case()
    assert public_view(case).next_follow_up == case.placement.follow_up_date
    g, _ = granted_case()
    assert public_view(g).next_follow_up is None and public_view(g).start_date == date(2026, 2, 1)
