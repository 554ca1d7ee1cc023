"""The consent gate: may this partner receive this event about this citizen, right now?

A partner receives an event only where
- a consent of the citizen, in force at the moment of delivery, covers the partner's organisation
  and the event's category; or
- a legal basis recorded on the event allows it without consent (hospital notices:
  retssikkerhedsloven § 12 c).

A revocation applies to everything after it: it is checked before *every* attempt, so queued
retries of older events stop too. The answer always carries a reason, which is stored when nothing is
delivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

ALL_CATEGORIES = "*"

HOSPITAL_NOTICES = "hospital-notices"
HEALTH = "health"
PLANS = "plans"
REFERRALS = "referrals"
TASKS = "tasks"

# Legal bases that allow delivery of a category without the citizen's consent.
LEGAL_BASES: Mapping[str, frozenset[str]] = {
    "retssikkerhedsloven § 12 c": frozenset({HOSPITAL_NOTICES}),
}


def category_of(event_type: str) -> str:
    """``tovholder.<producer>.<name>.v<n>`` → the consent category it falls under."""
    parts = event_type.split(".")
    producer = parts[1] if len(parts) >= 4 and parts[0] == "tovholder" else ""
    name = parts[2] if len(parts) >= 4 else ""
    if producer == "health" and name.startswith("hospital-notice"):
        return HOSPITAL_NOTICES
    return {"health": HEALTH, "plans": PLANS, "referrals": REFERRALS, "notifications": TASKS}.get(producer, "other")


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One consent as the plans service published it; ``revoked_at`` is set by a later revocation."""

    consent_id: str
    citizen_id: UUID
    recipient_org: str
    categories: frozenset[str]
    given_at: datetime
    revoked_at: datetime | None = None
    valid_until: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        if self.given_at > at:
            return False
        if self.revoked_at is not None and self.revoked_at <= at:
            return False
        return self.valid_until is None or at < self.valid_until

    def covers(self, org: str, category: str) -> bool:
        return self.recipient_org == org and (ALL_CATEGORIES in self.categories or category in self.categories)


def revoke(record: ConsentRecord, at: datetime) -> ConsentRecord:
    # The earliest revocation wins: a replayed or late revocation event cannot push it later.
    if record.revoked_at is not None and record.revoked_at <= at:
        return record
    return replace(record, revoked_at=at)


@dataclass(frozen=True, slots=True)
class DeliveryDecision:
    allowed: bool
    reason: str
    basis: str | None = None  # "consent <id>" or the legal basis


def decide(
    *,
    event_type: str,
    event_data: Mapping[str, Any],
    citizen_id: UUID,
    partner_org: str,
    consents: Iterable[ConsentRecord],
    at: datetime,
) -> DeliveryDecision:
    category = category_of(event_type)
    recorded_basis = event_data.get("legal_basis")
    if isinstance(recorded_basis, str) and category in LEGAL_BASES.get(recorded_basis, frozenset()):
        return DeliveryDecision(True, f"legal basis: {recorded_basis}", basis=recorded_basis)

    relevant = [c for c in consents if c.citizen_id == citizen_id and c.covers(partner_org, category)]
    for consent in relevant:
        if consent.in_force(at):
            return DeliveryDecision(True, f"consent {consent.consent_id}", basis=f"consent {consent.consent_id}")
    revoked = sorted((c for c in relevant if c.revoked_at is not None and c.revoked_at <= at), key=lambda c: c.revoked_at)
    if revoked:
        last = revoked[-1]
        return DeliveryDecision(
            False, f"consent {last.consent_id} for {partner_org} ({category}) was revoked {last.revoked_at.isoformat()}"
        )
    if relevant:
        return DeliveryDecision(False, f"no consent for {partner_org} ({category}) is in force at {at.isoformat()}")
    return DeliveryDecision(
        False, f"the citizen has given no consent that covers {partner_org} for '{category}' and no legal basis is recorded"
    )
