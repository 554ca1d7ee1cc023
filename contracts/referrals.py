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
