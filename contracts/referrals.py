"""Events published by the referrals service (visitation along the indsatstrappe)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from contracts.base import EventBody, event
from contracts.topics import REFERRALS

LegalBasis = Literal["SEL §107", "SEL §108", "SEL §85", "ABL §105 + SEL §85"]


@event("citizen-registered", version=1, topic=REFERRALS)
class CitizenRegisteredV1(EventBody):
    """A citizen became known to the municipality's visitation. The CPR stays in referrals:
    other services get only ``cpr_hash`` (a keyed HMAC) so they can match partner messages."""

    cpr_hash: str
    citizen_name: str
    municipality: str | None = None


@event("referral-received", version=1, topic=REFERRALS)
class ReferralReceivedV1(EventBody):
    referral_id: UUID
    received_at: datetime
    channel: Literal["partner", "staff"]
    referrer_org: str | None = None
    requested_step: int | None = None
    requested_offer: LegalBasis | None = None


@event("visitation-decided", version=1, topic=REFERRALS)
class VisitationDecidedV1(EventBody):
    referral_id: UUID
    decision: Literal["granted", "refused"]
    decided_at: datetime
    decided_by: str
    legal_basis: LegalBasis
    step: int | None = None
    offer_id: str | None = None
    botilbud_id: str | None = None
    start_date: date | None = None
    follow_up_date: date | None = None
    # True: granted, but the offer was full, so the citizen waits on its waitlist (no place reserved).
    waitlisted: bool | None = None


EndCause = Literal["stepped_down", "moved_out", "transferred", "died", "other"]
Destination = Literal["own_home", "offer", "other"]


@event("referral-withdrawn", version=1, topic=REFERRALS)
class ReferralWithdrawnV1(EventBody):
    """The referral was withdrawn before move-in (by the citizen or the referrer); open tasks can close."""

    referral_id: UUID
    withdrawn_at: datetime
    previous_status: str


@event("placement-started", version=1, topic=REFERRALS)
class PlacementStartedV1(EventBody):
    """The citizen moved in: plans and health open their records for the botilbud."""

    referral_id: UUID
    offer_id: str
    botilbud_id: str | None = None
    legal_basis: LegalBasis
    step: int
    moved_in_on: date
    follow_up_date: date


@event("move-out-planned", version=1, topic=REFERRALS)
class MoveOutPlannedV1(EventBody):
    """A move-out is planned: the home prepares the handover (only what the citizen consents to share)
    and the phase-out visits."""

    referral_id: UUID
    botilbud_id: str | None = None
    planned_on: date
    destination: Destination
    receiving_offer_id: str | None = None
    receiving_botilbud_id: str | None = None
    receiving_step: int | None = None
    current_step: int
    phase_out_visits_planned: int


@event("placement-ended", version=1, topic=REFERRALS)
class PlacementEndedV1(EventBody):
    referral_id: UUID
    offer_id: str
    botilbud_id: str | None = None
    ended_on: date
    cause: EndCause
    destination: Destination
    receiving_offer_id: str | None = None
    receiving_botilbud_id: str | None = None
    from_step: int
    to_step: int | None = None
    stepped_down: bool
    # A move to an offer continues the citizen's case there: the new case (placed or on the waitlist).
    continued_in_referral_id: UUID | None = None


@event("follow-up-held", version=1, topic=REFERRALS)
class FollowUpHeldV1(EventBody):
    """Visitation followed up on the placement; the "follow-up due" task can be completed."""

    referral_id: UUID
    held_on: date
    next_follow_up_date: date


@event("temporary-stay-drifting", version=1, topic=REFERRALS)
class TemporaryStayDriftingV1(EventBody):
    """A § 107 (temporary) stay drifts: past its planned period, or follow-ups without movement.
    Visitation gets a task to reassess (once per stay and reason)."""

    referral_id: UUID
    offer_id: str
    botilbud_id: str | None = None
    reason: Literal["past-planned-period", "no-movement"]
    since: date
    moved_in_on: date
    follow_ups_held: int
    planned_years: int


@event("follow-up-due", version=1, topic=REFERRALS)
class FollowUpDueV1(EventBody):
    """A placement's follow-up date is near or past: visitation staff get a task to follow up."""

    referral_id: UUID
    offer_id: str
    botilbud_id: str | None = None
    legal_basis: LegalBasis
    step: int
    follow_up_date: date
    temporary: bool  # a §107 stay: "temporary as a starting point"
