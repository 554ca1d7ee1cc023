"""Builders for the referrals domain tests (plain objects, no I/O). Imported by name: the test
directory is on sys.path under pytest's default import mode."""

from __future__ import annotations

from datetime import date, datetime, timezone
from uuid import uuid4

from services.referrals.domain import lifecycle as lc
from services.referrals.domain.model import Channel, LegalBasis, Referrer, Trait
from services.referrals.domain.offers import CitizenProfile, Offer, ResidentMix, TargetGroup

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
PARTNER = Referrer(channel=Channel.PARTNER, org="SOR:1234567", name="Psykiatrisk Center København")


def at(day: int, month: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=timezone.utc)


def make_offer(**kw) -> Offer:
    defaults = dict(
        offer_id="tangkaer-108",
        name="Tangkær",
        botilbud_id="tangkaer",
        legal_basis=LegalBasis.SEL_108,
        step=7,
        approved_places=43,
        occupied=40,
        reserved=0,
        target_group=TargetGroup(min_age=18, max_age=67),
    )
    defaults.update(kw)
    return Offer(**defaults)


def new_case(**kw):
    defaults = dict(
        case_id=uuid4(),
        citizen_id=uuid4(),
        referrer=PARTNER,
        reason="Har brug for et trygt sted at bo efter udskrivning.",
        received_at=T0,
        citizen_wishes="Jeg vil gerne bo tæt på min søster.",
        requested_step=7,
        requested_legal_basis=LegalBasis.SEL_108,
    )
    defaults.update(kw)
    return lc.open_case(**defaults)


def screened_case(traits=(), **kw):
    case = new_case(**kw)
    lc.start_screening(case, by="vis-1", at=at(6))
    lc.record_assessment(
        case,
        scores={"egenomsorg": 3, "socialt_liv": 2, "misbrug": 0},
        wishes="At have min egen lejlighed igen en dag.",
        needs="Støtte til medicin og struktur på dagen.",
        resources="God kontakt til søsteren.",
        traits=[t.value for t in traits],
        by="vis-1",
        at=at(7),
    )
    return case


PROFILE_30 = CitizenProfile(age=30)


def granted_case(offer=None, *, traits=(), start=date(2026, 2, 1), **kw):
    offer = offer or make_offer()
    case = screened_case(traits=traits, **kw)
    lc.grant(case, offer=offer, profile=CitizenProfile(age=30, traits=frozenset(traits)), start_date=start,
             follow_up_date=None, reason="Borgeren har brug for døgnstøtte.", by="vis-1", at=at(10))
    return case, offer


def placed_case(offer=None, moved_in_on=date(2026, 2, 1), **kw):
    case, offer = granted_case(offer, **kw)
    lc.move_in(case, offer=offer, moved_in_on=moved_in_on, by="vis-1", at=at(1, 2))
    return case, offer


WITHDRAWN_PROFILE = CitizenProfile(age=30, traits=frozenset({Trait.TILBAGETRUKKET}))


def mixed_home():
    return make_offer(
        offer_id="tuesten-108", name="Tuesten Huse", botilbud_id="tuesten", approved_places=20, occupied=19,
        mix=ResidentMix(residents=19, outward_reacting=2, drug_using=12, withdrawn=0),
    )
