"""Offers (botilbud and other offers on the indsatstrappe), matching a case to them, and waitlists.

Matching answers visitation's question for one case: which offers fit, how many free places each
has, why every other offer is excluded, and what to watch out for in the resident mix ([4]:1221-1239).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from services.referrals.domain.errors import InvalidInput
from services.referrals.domain.model import (
    CaseStatus,
    LegalBasis,
    Trait,
    VisitationCase,
    check_step,
    check_step_fits_legal_basis,
)
from tovholder import clock


@dataclass(frozen=True)
class TargetGroup:
    """Who an offer is for ([2]:823-846: "a target group with inclusion and exclusion criteria").

    ``requires``: the citizen must have every one of these characteristics (e.g. Vista Hus:
    dobbeltdiagnose + behandlingsdom); ``excludes``: the citizen must have none of them.
    """

    min_age: int | None = None
    max_age: int | None = None
    requires: frozenset[Trait] = frozenset()
    excludes: frozenset[Trait] = frozenset()
    description: str = ""


@dataclass(frozen=True)
class ResidentMix:
    """How many of the offer's residents have the characteristics the mix warnings look at — counted
    from the placements visitation registered (``resident_mix_of``), never typed in by hand."""

    residents: int = 0
    outward_reacting: int = 0
    drug_using: int = 0
    withdrawn: int = 0


# Which screening characteristics count towards each figure of the resident mix.
MIX_TRAITS: dict[str, frozenset[Trait]] = {
    "outward_reacting": frozenset({Trait.UDADREAGERENDE}),
    "drug_using": frozenset({Trait.MISBRUG, Trait.DOBBELTDIAGNOSE}),
    "withdrawn": frozenset({Trait.TILBAGETRUKKET}),
}


def resident_mix_of(residents: Iterable[frozenset[Trait]]) -> ResidentMix:
    """The mix of an offer from the characteristics of each citizen placed there."""
    counts = {name: 0 for name in MIX_TRAITS}
    total = 0
    for traits in residents:
        total += 1
        for name, wanted in MIX_TRAITS.items():
            if traits & wanted:
                counts[name] += 1
    return ResidentMix(residents=total, **counts)


@dataclass(frozen=True)
class Offer:
    offer_id: str
    name: str
    botilbud_id: str | None
    legal_basis: LegalBasis
    step: int
    approved_places: int
    target_group: TargetGroup = TargetGroup()
    occupied: int = 0  # moved in
    reserved: int = 0  # granted, place held, not yet moved in
    mix: ResidentMix = ResidentMix()
    active: bool = True

    @property
    def free_places(self) -> int:
        return max(0, self.approved_places - self.occupied - self.reserved)

    @property
    def full(self) -> bool:
        return self.free_places == 0


def validate_offer(offer: Offer) -> Offer:
    if not offer.offer_id.strip() or not offer.name.strip():
        raise InvalidInput("Et tilbud skal have et id og et navn.")
    check_step(offer.step)
    check_step_fits_legal_basis(offer.step, offer.legal_basis)
    if offer.approved_places < 0:
        raise InvalidInput("Antallet af godkendte pladser kan ikke være negativt.")
    check_occupancy(offer)
    tg = offer.target_group
    if tg.min_age is not None and tg.min_age < 18:
        raise InvalidInput("Det er tilbud til voksne: målgruppens minimumsalder skal være 18 år eller mere.")
    if tg.min_age is not None and tg.max_age is not None and tg.min_age > tg.max_age:
        raise InvalidInput(f"Målgruppens minimumsalder ({tg.min_age}) er over dens maksimumsalder ({tg.max_age}).")
    both = tg.requires & tg.excludes
    if both:
        names = ", ".join(sorted(t.value for t in both))
        raise InvalidInput(f"Et kendetegn kan ikke både være et krav og udelukket: {names}.")
    return offer


def check_occupancy(offer: Offer, *, placed_here: int = 0) -> None:
    """Occupied and reserved places never exceed the approved places, and the occupancy is never
    below the citizens visitation has moved in (``placed_here``)."""
    if offer.occupied + offer.reserved > offer.approved_places:
        raise InvalidInput(
            f"'{offer.name}' har {offer.approved_places} godkendte pladser, men {offer.occupied} optagne og "
            f"{offer.reserved} reserverede. Der kan ikke være flere beboere end godkendte pladser: ret "
            "antallet af optagne pladser, eller få flere pladser godkendt først."
        )
    if offer.occupied < placed_here:
        raise InvalidInput(
            f"'{offer.name}' har {placed_here} borgere, som visitationen har registreret som flyttet ind; "
            f"de optagne pladser kan ikke sættes til {offer.occupied}. Registrér udflytningerne i stedet."
        )


@dataclass(frozen=True)
class CitizenProfile:
    """What matching knows about the citizen: age and the characteristics from the screening."""

    age: int | None
    traits: frozenset[Trait] = frozenset()


@dataclass(frozen=True)
class OfferMatch:
    offer: Offer
    fits: bool
    free_places: int
    exclusions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def target_group_exclusions(offer: Offer, profile: CitizenProfile) -> list[str]:
    """Why the offer's target group does not include this citizen (empty list: it does), in Danish for
    visitation."""
    reasons: list[str] = []
    tg = offer.target_group
    if profile.age is not None:
        if tg.min_age is not None and profile.age < tg.min_age:
            reasons.append(f"målgruppen starter ved {tg.min_age} år; borgeren er {profile.age}")
        if tg.max_age is not None and profile.age > tg.max_age:
            reasons.append(f"målgruppen slutter ved {tg.max_age} år; borgeren er {profile.age}")
    missing = tg.requires - profile.traits
    if missing:
        reasons.append("målgruppen kræver " + ", ".join(t.danish for t in sorted(missing)))
    clashing = tg.excludes & profile.traits
    if clashing:
        reasons.append("målgruppen udelukker " + ", ".join(t.danish for t in sorted(clashing)))
    return reasons


def resident_mix_warnings(offer: Offer, profile: CitizenProfile) -> list[str]:
    """The sources warn against placing a withdrawn citizen among outward-reacting or drug-using
    residents ([4]:1233-1235); the same clash seen from the other side is warned about too."""
    mix = offer.mix
    of = f"af de {mix.residents} beboere, visitationen har anbragt,"
    warnings: list[str] = []
    if Trait.TILBAGETRUKKET in profile.traits:
        if mix.outward_reacting:
            warnings.append(
                f"{mix.outward_reacting} {of} er udadreagerende; en tilbagetrukket borger bør ikke bo "
                "blandt udadreagerende beboere"
            )
        if mix.drug_using:
            warnings.append(
                f"{mix.drug_using} {of} har et misbrug; en tilbagetrukket borger bør ikke bo blandt "
                "beboere med misbrug"
            )
    if mix.withdrawn and ((MIX_TRAITS["outward_reacting"] | MIX_TRAITS["drug_using"]) & profile.traits):
        warnings.append(
            f"{mix.withdrawn} {of} er tilbagetrukne; borgerens udadreagerende adfærd eller misbrug "
            "kan skade dem"
        )
    return warnings


def match_offers(
    offers: list[Offer] | tuple[Offer, ...],
    profile: CitizenProfile,
    *,
    step: int | None = None,
    legal_basis: LegalBasis | None = None,
) -> list[OfferMatch]:
    """Every offer, with whether it fits, its free places, and why it is excluded otherwise.

    ``step``/``legal_basis`` narrow the search to what visitation is considering (usually the
    requested step and offer). A full offer still *fits*: the citizen can join its waitlist.
    Order: fitting offers first, those with free places and fewer warnings before the rest.
    """
    if step is not None:
        check_step(step)
    results: list[OfferMatch] = []
    for offer in offers:
        exclusions: list[str] = []
        if not offer.active:
            exclusions.append("tilbuddet er lukket for nye henvisninger")
        if step is not None and offer.step != step:
            exclusions.append(f"tilbuddet ligger på trin {offer.step}; sagen vurderes til trin {step}")
        if legal_basis is not None and offer.legal_basis is not legal_basis:
            exclusions.append(f"tilbuddet bevilges efter {offer.legal_basis.value}; sagen gælder {legal_basis.value}")
        exclusions.extend(target_group_exclusions(offer, profile))
        warnings = resident_mix_warnings(offer, profile)
        results.append(
            OfferMatch(
                offer=offer,
                fits=not exclusions,
                free_places=offer.free_places,
                exclusions=tuple(exclusions),
                warnings=tuple(warnings),
            )
        )
    results.sort(key=lambda m: (not m.fits, m.free_places == 0, len(m.warnings), m.offer.name))
    return results


# ---------------------------------------------------------------------------------------------
# Waitlists and waiting time


@dataclass(frozen=True)
class WaitlistEntry:
    case_id: UUID
    citizen_id: UUID
    status: CaseStatus
    granted_at: datetime
    received_at: datetime
    start_date: date
    days_since_grant: int
    days_since_referral: int
    place_reserved: bool
    queue_position: int | None  # 1 = next in line for a free place; None when a place is already reserved


@dataclass(frozen=True)
class Waitlist:
    offer_id: str
    entries: tuple[WaitlistEntry, ...]
    median_days_waiting: float | None
    longest_days_waiting: int | None


def waiting_days(since: datetime | date, until: datetime | date) -> int:
    since_d = clock.local_date(since) if isinstance(since, datetime) else since
    until_d = clock.local_date(until) if isinstance(until, datetime) else until
    return max(0, (until_d - since_d).days)


def waitlist_for(offer_id: str, cases: list[VisitationCase] | tuple[VisitationCase, ...], today: date) -> Waitlist:
    """The citizens granted ``offer_id`` who have not moved in yet: first those with a reserved
    place (about to move in), then the queue for a free place, first granted first.

    Waiting days are counted from the referral (what the citizen experiences) and from the grant.
    """
    entries = [
        dict(
            case_id=c.case_id,
            citizen_id=c.citizen_id,
            status=c.status,
            granted_at=c.grant.decided_at,
            received_at=c.received_at,
            start_date=c.grant.start_date,
            days_since_grant=waiting_days(c.grant.decided_at, today),
            days_since_referral=waiting_days(c.received_at, today),
            place_reserved=c.status is CaseStatus.GRANTED,
        )
        for c in cases
        if c.grant is not None
        and c.grant.offer_id == offer_id
        and c.status in (CaseStatus.GRANTED, CaseStatus.WAITING)
    ]
    entries.sort(key=lambda e: (not e["place_reserved"], e["granted_at"], e["received_at"], str(e["case_id"])))
    queued = 0
    result: list[WaitlistEntry] = []
    for e in entries:
        position = None
        if not e["place_reserved"]:
            queued += 1
            position = queued
        result.append(WaitlistEntry(**e, queue_position=position))
    days = [e.days_since_referral for e in result]
    return Waitlist(
        offer_id=offer_id,
        entries=tuple(result),
        median_days_waiting=percentile(days, 50),
        longest_days_waiting=max(days) if days else None,
    )


def percentile(values: list[int] | list[float], pct: float) -> float | None:
    """Percentile by linear interpolation between closest ranks (as PostgreSQL's percentile_cont)."""
    if not values:
        return None
    if not 0 <= pct <= 100:
        raise ValueError("percentile must be within 0..100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
