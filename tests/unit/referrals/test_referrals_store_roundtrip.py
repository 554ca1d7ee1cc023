"""The row ↔ domain mapping keeps everything the rules need (no database: rows are plain objects)."""

from datetime import date

from referrals_builders import at, granted_case, make_offer, placed_case, screened_case
from services.referrals import repository
from services.referrals.domain import lifecycle as lc
from services.referrals.domain.model import CaseStatus, Destination, LegalBasis
from services.referrals.models import Offer, Referral


def row_for(case) -> Referral:
    r = case.referrer
    row = Referral(id=case.case_id, citizen_id=case.citizen_id, status=case.status.value, channel=r.channel.value,
                   referrer_org=r.org, referrer_name=r.name, referrer_sub=r.sub, municipality=case.municipality,
                   reason=case.reason, citizen_wishes=case.citizen_wishes, requested_step=case.requested_step,
                   requested_offer=case.requested_legal_basis.value if case.requested_legal_basis else None,
                   requested_offer_id=case.requested_offer_id, received_at=case.received_at)
    repository.write_case(row, case)
    return row


def same_state(a, b):
    for field in ("case_id", "citizen_id", "status", "assessment", "grant", "refusal", "placement", "move_out_plan",
                  "ending", "withdrawn_reason", "follow_up_signalled_for", "requested_step", "requested_legal_basis"):
        assert getattr(a, field) == getattr(b, field), field


def test_every_stage_survives_a_round_trip():
    case = screened_case()
    same_state(repository.case_to_domain(row_for(case)), case)
    granted, _ = granted_case(start=date(2026, 2, 1))
    same_state(repository.case_to_domain(row_for(granted)), granted)
    placed, _ = placed_case()
    lc.record_follow_up(placed, held_on=date(2026, 4, 1), next_follow_up_date=date(2026, 9, 1), by="v", at=at(1, 4))
    lc.mark_follow_up_signalled(placed)
    lc.plan_move_out(placed, destination=Destination.OWN_HOME, receiving_step=3, planned_on=date(2026, 9, 1),
                     by="v", at=at(1, 8))
    lc.record_phase_out_visit(placed, visited_on=date(2026, 9, 3), by="v", at=at(3, 9))
    same_state(repository.case_to_domain(row_for(placed)), placed)
    lc.end_placement(placed, ended_on=date(2026, 9, 5), by="v", at=at(5, 9))
    same_state(repository.case_to_domain(row_for(placed)), placed)


def test_a_reloaded_case_keeps_obeying_the_rules():
    case = screened_case()
    lc.refuse(case, reason="Nej", legal_basis=LegalBasis.SEL_108, by="v", at=at(10))
    row = row_for(case)
    loaded = repository.case_to_domain(row)
    assert loaded.refusal is not None and "Ankestyrelsen" in loaded.refusal.complaint_guidance
    lc.reopen_for_reassessment(loaded, reason="Klage", by="v", at=at(12))
    repository.write_case(row, loaded)
    assert (row.status, row.decision, row.complaint_guidance) == ("screening", None, None)
    again = repository.case_to_domain(row)
    lc.grant(again, offer=make_offer(), profile=repository.CitizenProfile(age=40), start_date=date(2026, 2, 1),
             follow_up_date=None, reason="Ja", by="v", at=at(13))
    repository.write_case(row, again)
    assert (row.status, row.decision, row.offer_id, row.step) == ("granted", "granted", "tangkaer-108", 7)


def test_waitlist_case_from_columns_matches_the_full_mapping():
    case, _ = granted_case()
    row = row_for(case)
    light = repository.waitlist_case(row)
    assert (light.status, light.grant.offer_id, light.grant.decided_at, light.received_at) == (
        CaseStatus.GRANTED, case.grant.offer_id, case.grant.decided_at, case.received_at)


def test_offer_row_maps_target_group_and_mix():
    row = Offer(id="vista", botilbud_id="vista", name="Vista Hus", legal_basis="SEL §108", step=7, approved_places=5,
                occupied_places=5, reserved_places=0, target_requires=["dobbeltdiagnose"], target_excludes=[],
                active=True)
    offer = repository.offer_to_domain(row, repository.ResidentMix(residents=3, drug_using=2))
    assert offer.full and offer.mix.drug_using == 2 and offer.mix.residents == 3
    assert repository.offer_to_domain(row).mix.residents == 0  # no placements counted: no mix
    assert {t.value for t in offer.target_group.requires} == {"dobbeltdiagnose"}
