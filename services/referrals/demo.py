"""Load the demo botilbud (as offers) and citizens into referrals (idempotent), each citizen with the
case that placed them: a partner's referral, visitation's screening, assessment and grant, the move-in
on the demo's ``moved_in_on`` and the follow-ups held since — built by the domain's own rules, so Min sag,
the visitation lists and the resident mix show real placements."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from contracts.referrals import CitizenRegisteredV1
from services.referrals import repository
from services.referrals.domain import lifecycle as lc
from services.referrals.domain import model as dm
from services.referrals.domain.cpr import age_on, birth_date_from_cpr
from services.referrals.domain.offers import CitizenProfile
from services.referrals.models import Citizen, Offer
from tovholder import clock
from tovholder.cpr import CprVault
from tovholder.uow import UnitOfWork

# Target groups from the sources' descriptions of the six homes (DIGEST §5, [4]:3182-3401). The
# resident mix is counted from placements, so the demo's hand-typed figure is gone.
TARGET_GROUPS: dict[str, dict[str, Any]] = {
    "tangkaer": {"target_min_age": 18, "target_max_age": 67},
    "vista-hus": {"target_requires": ["behandlingsdom", "dobbeltdiagnose"]},
    "cirklen": {"target_min_age": 18, "target_max_age": 30},
    "tuesten-huse": {"target_requires": ["misbrug"]},
    "mette-marie": {"target_min_age": 35, "target_max_age": 60, "target_requires": ["dobbeltdiagnose"]},
    "orion": {},
}


async def seed(uow: UnitOfWork, demo: dict[str, Any], vault: CprVault) -> None:
    if await repository.any_offer(uow):
        return
    occupied: dict[str, int] = {}
    for c in demo["citizens"]:
        occupied[c["botilbud"]] = occupied.get(c["botilbud"], 0) + 1
    for home in demo["botilbud"]:
        extra = TARGET_GROUPS.get(home["id"], {})
        repository.add_offer(uow, Offer(
            id=home["id"], botilbud_id=home["id"], name=home["name"], municipality=home["municipality"],
            legal_basis=home["legal_basis"], step=home["step"], approved_places=home["approved_places"],
            occupied_places=occupied.get(home["id"], 0), reserved_places=0, target_group=home["target_group"],
            target_min_age=extra.get("target_min_age"), target_max_age=extra.get("target_max_age"),
            target_requires=extra.get("target_requires", []), target_excludes=extra.get("target_excludes", []),
        ))
    homes = {home["id"]: home for home in demo["botilbud"]}
    offers = {row.id: row for row in [await repository.get_offer(uow, home_id) for home_id in homes]}
    placed: dict[str, int] = {}
    for c in demo["citizens"]:
        cpr_hash = vault.hash(c["cpr"])
        home = homes[c["botilbud"]]
        repository.add_citizen(uow, Citizen(id=uuid.UUID(c["citizen_id"]), cpr_hash=cpr_hash,
                                cpr_encrypted=vault.encrypt(c["cpr"]), name=c["name"],
                                municipality=home["municipality"], birth_date=birth_date_from_cpr(c["cpr"])))
        uow.emit(CitizenRegisteredV1(citizen_id=c["citizen_id"], cpr_hash=cpr_hash, citizen_name=c["name"]))
        # The places the demo's occupied count holds are taken one by one, as each citizen moved in.
        offer = dataclasses.replace(repository.offer_to_domain(offers[home["id"]]), occupied=placed.get(home["id"], 0),
                                    reserved=0)
        placed[home["id"]] = placed.get(home["id"], 0) + 1
        case = placement_case(c, home, offer, demo, today=clock.local_date(clock.now()))
        await repository.add_referral(uow, repository.new_case_row(case), case.history)
    uow.audit(None, "demo.seed", detail={"citizens": len(demo["citizens"])})
    await uow.commit()


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=clock.COPENHAGEN)


def placement_case(citizen: dict[str, Any], home: dict[str, Any], offer, demo: dict[str, Any], *,
                   today: date) -> dm.VisitationCase:
    """The case that placed a demo citizen where the demo says, by the domain's rules (no events: the
    other services' demo data already hold the placement's consequences)."""
    moved_in = date.fromisoformat(citizen["moved_in_on"])
    received = moved_in - timedelta(days=56)
    partners = demo["partners"]
    partner = partners[0] if home["municipality"] == "København" or len(partners) < 2 else partners[1]
    visitation = next((s["sub"] for s in demo["staff"] if s["role"] == "visitation"
                       and s.get("municipality") == home["municipality"]), "visitation-1")
    case = lc.open_case(
        case_id=uuid.uuid5(uuid.UUID(citizen["citizen_id"]), "demo-case"), citizen_id=uuid.UUID(citizen["citizen_id"]),
        referrer=dm.Referrer(channel=dm.Channel.PARTNER, org=partner["org"], name=partner["name"]),
        reason="Udskrives fra psykiatrisk afdeling og har brug for et botilbud med støtte hele døgnet.",
        received_at=_at(received), municipality=home["municipality"], requested_step=offer.step,
        requested_legal_basis=offer.legal_basis)
    lc.start_screening(case, by=visitation, at=_at(received + timedelta(days=3)))
    traits = sorted(t.value for t in offer.target_group.requires)
    lc.record_assessment(case, scores={"egenomsorg": 3, "praktiske_opgaver": 3, "socialt_liv": 2, "sundhed": 3},
                         wishes="Jeg vil gerne bo et sted, hvor der er nogen om natten, og have mit eget værelse.",
                         needs="Støtte til medicin, måltider og kontakt til behandling.", resources="Har kontakt til sin familie.",
                         traits=traits, by=visitation, at=_at(received + timedelta(days=17)))
    born = birth_date_from_cpr(citizen["cpr"])
    profile = CitizenProfile(age=age_on(born, moved_in) if born else None, traits=frozenset(dm.Trait(t) for t in traits))
    lc.grant(case, offer=offer, profile=profile, start_date=moved_in, follow_up_date=None,
             reason=f"Borgeren har brug for {home['name']}s døgnstøtte; funktionsvurderingen viser behov for hjælp "
                    "til egenomsorg, praktiske opgaver og helbred.",
             by=visitation, at=_at(received + timedelta(days=28)),
             target_group_override="Visiteret hertil efter en faglig vurdering af borgerens behov.")
    lc.move_in(case, offer=offer, moved_in_on=moved_in, by=visitation, at=_at(moved_in))
    interval = timedelta(days=lc.DEFAULT_FOLLOW_UP_DAYS[offer.legal_basis])
    while case.placement.follow_up_date <= today:  # the follow-ups held since, each setting the next
        held = case.placement.follow_up_date
        lc.record_follow_up(case, held_on=held, next_follow_up_date=held + interval, by=visitation, at=_at(held))
    return case
