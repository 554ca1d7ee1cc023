"""The visitation case (one referral and what visitation did with it) and its parts.

Plain dataclasses, no I/O. The lifecycle rules live in ``lifecycle.py``; matching in ``offers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from services.referrals.domain.errors import InvalidInput


class LegalBasis(StrEnum):
    # Values are the wire form used by the integration contract and the events.
    SEL_107 = "SEL §107"  # temporary stay (midlertidigt botilbud)
    SEL_108 = "SEL §108"  # long-term stay (længerevarende botilbud)
    SEL_85 = "SEL §85"  # socialpædagogisk støtte
    ABL_105_SEL_85 = "ABL §105 + SEL §85"  # own rented flat (almen bolig) with §85 support

    @property
    def temporary(self) -> bool:
        return self is LegalBasis.SEL_107


def parse_legal_basis(value: str) -> LegalBasis:
    try:
        return LegalBasis(value)
    except ValueError:
        allowed = ", ".join(f"'{b.value}'" for b in LegalBasis)
        raise InvalidInput(f"Ukendt hjemmel '{value}'. Brug en af {allowed}.",
                           en=f"Unknown legal basis '{value}'. Use one of {allowed}.") from None


MIN_STEP, MAX_STEP = 1, 7

# The steps of the indsatstrappe an offer under each legal basis can sit on ([2]:218-263):
# temporary home places are step 6, long-term step 7 (source); §85 support and §105 flats with §85
# support span the steps in between (INFERRED from the examples per step).
STEPS_BY_LEGAL_BASIS: dict[LegalBasis, frozenset[int]] = {
    LegalBasis.SEL_107: frozenset({6}),
    LegalBasis.SEL_108: frozenset({7}),
    LegalBasis.SEL_85: frozenset({2, 3, 4, 5}),
    LegalBasis.ABL_105_SEL_85: frozenset({3, 4, 5, 6, 7}),
}


def check_step(step: int, *, what: str = "step") -> int:
    if isinstance(step, bool) or not isinstance(step, int) or not MIN_STEP <= step <= MAX_STEP:
        raise InvalidInput(
            f"{what} skal være et helt tal fra {MIN_STEP} til {MAX_STEP} på indsatstrappen "
            f"(1 = åbne tilbud uden visitation … 6 = midlertidigt og 7 = længerevarende botilbud); fik {step!r}.",
            en=f"{what} must be a whole number from {MIN_STEP} to {MAX_STEP} on the indsatstrappe "
               f"(1 = open offers without visitation … 6 = temporary and 7 = long-term botilbud); got {step!r}.",
        )
    return step


def check_step_fits_legal_basis(step: int, basis: LegalBasis) -> None:
    allowed = STEPS_BY_LEGAL_BASIS[basis]
    if step not in allowed:
        steps = ", ".join(str(s) for s in sorted(allowed))
        raise InvalidInput(f"Et tilbud efter {basis.value} ligger på trin {steps} af indsatstrappen, ikke trin {step}.")


class CaseStatus(StrEnum):
    RECEIVED = "received"
    SCREENING = "screening"
    GRANTED = "granted"  # decided: granted, a place is reserved in the offer
    REFUSED = "refused"
    WAITING = "waiting"  # granted, on the offer's waitlist: waiting for a free place or for move-in
    PLACED = "placed"  # moved in
    ENDED = "ended"  # moved out / stepped down / other end
    WITHDRAWN = "withdrawn"  # withdrawn by the citizen or the referrer before move-in

    @property
    def danish(self) -> str:
        """The status in a Danish sentence ("sagen er bevilget"): visitation reads it in a refusal."""
        return _STATUS_WORDS[self]


_STATUS_WORDS = {
    CaseStatus.RECEIVED: "modtaget", CaseStatus.SCREENING: "under udredning", CaseStatus.GRANTED: "bevilget",
    CaseStatus.REFUSED: "givet afslag", CaseStatus.WAITING: "på venteliste", CaseStatus.PLACED: "indflyttet",
    CaseStatus.ENDED: "afsluttet", CaseStatus.WITHDRAWN: "trukket tilbage",
}


OPEN_STATUSES = frozenset({CaseStatus.RECEIVED, CaseStatus.SCREENING, CaseStatus.GRANTED, CaseStatus.WAITING, CaseStatus.PLACED})
DECIDED_STATUSES = frozenset(
    {CaseStatus.GRANTED, CaseStatus.REFUSED, CaseStatus.WAITING, CaseStatus.PLACED, CaseStatus.ENDED}
)
# Statuses in which the case takes up a place in its offer (counts against approved places).
HOLDS_PLACE = frozenset({CaseStatus.GRANTED, CaseStatus.PLACED})


class Channel(StrEnum):
    PARTNER = "partner"
    STAFF = "staff"


class VumTheme(StrEnum):
    """Themes of the functional assessment (voksenudredningsmetoden, VUM 2.0), each scored 0–4."""

    PRAKTISKE_OPGAVER = "praktiske_opgaver"  # practical tasks in the home
    EGENOMSORG = "egenomsorg"  # self-care
    KOMMUNIKATION = "kommunikation"
    MOBILITET = "mobilitet"
    SAMFUNDSLIV = "samfundsliv"  # education, work, money
    SOCIALT_LIV = "socialt_liv"  # relations and network
    SUNDHED = "sundhed"  # physical and mental health
    MISBRUG = "misbrug"  # drug and alcohol use
    RISIKOADFAERD = "risikoadfaerd"  # self-harm, outward-reacting behaviour, crime


# VUM's scale of functional limitation.
VUM_SCALE = {
    0: "ingen eller ubetydelige begrænsninger",
    1: "lette begrænsninger",
    2: "moderate begrænsninger",
    3: "svære begrænsninger",
    4: "totale begrænsninger",
}


class Trait(StrEnum):
    """Characteristics used by offers' target groups and the resident-mix warnings."""

    TILBAGETRUKKET = "tilbagetrukket"  # withdrawn
    UDADREAGERENDE = "udadreagerende"  # outward-reacting
    MISBRUG = "misbrug"  # drug or alcohol use
    DOBBELTDIAGNOSE = "dobbeltdiagnose"  # mental illness and drug use
    BEHANDLINGSDOM = "behandlingsdom"  # treatment order
    SELVSKADE = "selvskade"
    KOGNITIV_FUNKTIONSNEDSAETTELSE = "kognitiv_funktionsnedsaettelse"

    @property
    def danish(self) -> str:
        """The characteristic as visitation writes it in a sentence (kognitiv funktionsnedsættelse)."""
        return "kognitiv funktionsnedsættelse" if self is Trait.KOGNITIV_FUNKTIONSNEDSAETTELSE else self.value


def parse_traits(values) -> frozenset[Trait]:
    traits = set()
    for value in values or ():
        try:
            traits.add(Trait(value))
        except ValueError:
            allowed = ", ".join(t.value for t in Trait)
            raise InvalidInput(f"Ukendt kendetegn '{value}'. Brug nogle af: {allowed}.") from None
    return frozenset(traits)


@dataclass(frozen=True)
class Referrer:
    """Who referred: a partner organisation (``org`` e.g. ``SOR:1234567``) or a staff member (``sub``)."""

    channel: Channel
    org: str | None = None
    name: str | None = None
    sub: str | None = None


@dataclass(frozen=True)
class FunctionalAssessment:
    scores: dict[VumTheme, int]
    wishes: str  # the citizen's own words
    needs: str
    resources: str
    traits: frozenset[Trait]
    assessed_by: str
    assessed_at: datetime

    @property
    def total(self) -> int:
        return sum(self.scores.values())

    @property
    def heaviest_themes(self) -> tuple[VumTheme, ...]:
        top = max(self.scores.values(), default=0)
        return tuple(t for t, s in self.scores.items() if s == top and top > 0)


@dataclass(frozen=True)
class Grant:
    offer_id: str
    botilbud_id: str | None
    legal_basis: LegalBasis
    step: int
    start_date: date
    follow_up_date: date
    decided_by: str
    decided_at: datetime
    reason: str
    waitlisted: bool  # True: no free place at decision time, the citizen joined the offer's waitlist
    target_group_override: str | None = None  # why visitation granted although the target group excludes


@dataclass(frozen=True)
class Refusal:
    reason: str
    legal_basis: LegalBasis
    complaint_guidance: str  # klagevejledning
    decided_by: str
    decided_at: datetime


@dataclass(frozen=True)
class Placement:
    offer_id: str
    botilbud_id: str | None
    legal_basis: LegalBasis
    step: int
    moved_in_on: date
    follow_up_date: date
    follow_ups_held: tuple[date, ...] = ()


class Destination(StrEnum):
    OWN_HOME = "own_home"  # own home, with or without support (bostøtte/hjemmevejleder)
    OFFER = "offer"  # another offer (botilbud, §85 support …)
    OTHER = "other"  # hospital, prison, other municipality, unknown


@dataclass(frozen=True)
class MoveOutPlan:
    destination: Destination
    planned_on: date  # planned move-out date
    receiving_offer_id: str | None
    receiving_step: int | None  # the step the citizen moves to (None = own home without support)
    phase_out_visits_planned: int
    phase_out_visits_done: tuple[date, ...]
    planned_by: str
    planned_at: datetime


class EndCause(StrEnum):
    STEPPED_DOWN = "stepped_down"  # moved to a lower step (own home with support, a lighter offer)
    MOVED_OUT = "moved_out"  # moved out, no lower step recorded (own home without support, other municipality)
    TRANSFERRED = "transferred"  # to another offer on the same or a higher step
    DIED = "died"
    OTHER = "other"


@dataclass(frozen=True)
class Ending:
    cause: EndCause
    ended_on: date
    destination: Destination
    receiving_offer_id: str | None
    from_step: int
    to_step: int | None
    ended_by: str

    @property
    def stepped_down(self) -> bool:
        # end_placement only accepts STEPPED_DOWN with a lower to_step, and files any lower move under it.
        return self.cause is EndCause.STEPPED_DOWN


@dataclass(frozen=True)
class Addition:
    """A further referral for a citizen whose case is open: it joins that case instead of opening a
    parallel one (visitation sees it as an addition to the case)."""

    addition_id: UUID
    referrer: Referrer
    reason: str
    received_at: datetime
    citizen_wishes: str | None = None
    requested_step: int | None = None
    requested_legal_basis: LegalBasis | None = None
    requested_offer_id: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    by: str  # the actor's sub (staff) or org (partner)
    action: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    reason: str | None = None  # shown to the citizen and the referring partner
    internal_note: str | None = None  # visitation staff only


@dataclass
class VisitationCase:
    case_id: UUID  # = referral_id
    citizen_id: UUID
    municipality: str | None
    referrer: Referrer
    reason: str
    citizen_wishes: str | None
    requested_step: int | None
    requested_legal_basis: LegalBasis | None
    requested_offer_id: str | None
    received_at: datetime
    status: CaseStatus = CaseStatus.RECEIVED
    assessment: FunctionalAssessment | None = None
    grant: Grant | None = None
    refusal: Refusal | None = None
    placement: Placement | None = None
    move_out_plan: MoveOutPlan | None = None
    ending: Ending | None = None
    withdrawn_reason: str | None = None
    follow_up_signalled_for: date | None = None  # the follow-up date a "follow-up due" was already emitted for
    # A move to another offer continues the citizen's case there: the two cases name each other.
    continued_from: UUID | None = None
    continued_in: UUID | None = None
    # Organisations whose further referrals joined this case (they follow it as referrers).
    added_by_orgs: frozenset[str] = frozenset()
    # The drift reasons (domain.clocks.DriftReason) already signalled for this temporary stay.
    drift_signalled: frozenset[str] = frozenset()
    history: list[HistoryEntry] = field(default_factory=list)

    @property
    def offer_id(self) -> str | None:
        if self.placement is not None:
            return self.placement.offer_id
        return self.grant.offer_id if self.grant is not None else None

    @property
    def botilbud_id(self) -> str | None:
        if self.placement is not None:
            return self.placement.botilbud_id
        return self.grant.botilbud_id if self.grant is not None else None

    @property
    def current_step(self) -> int | None:
        if self.placement is not None:
            return self.placement.step
        return self.grant.step if self.grant is not None else None
