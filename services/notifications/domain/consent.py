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

# The categories a citizen consents to (plans' ``ConsentCategory``): plan, health, safety-plan, fit.
PLAN = "plan"
HEALTH = "health"
SAFETY_PLAN = "safety-plan"
FIT = "fit"

# Legal bases that allow delivery of an event without the citizen's consent, and the events they cover.
HOSPITAL_NOTICE_PREFIX = "tovholder.health.hospital-notice-"
LEGAL_BASES: Mapping[str, str] = {
    "retssikkerhedsloven § 12 c": HOSPITAL_NOTICE_PREFIX,
}

_PLANS_CATEGORIES = {
    "safety-rating-changed": SAFETY_PLAN,
    "tryghedsplan-revised": SAFETY_PLAN,
    "learning-plan-due": SAFETY_PLAN,
    "learning-plan-completed": SAFETY_PLAN,
    "fit-recorded": FIT,
}
# Events that are the citizen's consent decisions or internal bookkeeping: never sent to partners.
_NEVER_DELIVERED = {"consent-given", "consent-revoked", "hospital-notice-parked", "hospital-notice-unparked"}


def category_of(event_type: str) -> str | None:
    """``tovholder.<producer>.<name>.v<n>`` → the consent category it falls under; ``None``: not
    deliverable to partners at all (referrals' case work, notifications' own tasks, consent records)."""
    parts = event_type.split(".")
    if len(parts) < 4 or parts[0] != "tovholder":
        return None
    producer, name = parts[1], parts[2]
    if name in _NEVER_DELIVERED:
        return None
    if producer == "health":
        return HEALTH
    if producer == "plans":
        return _PLANS_CATEGORIES.get(name, PLAN)
    return None


def deliverable(event_types: Iterable[str]) -> frozenset[str]:
    return frozenset(e for e in event_types if category_of(e) is not None)


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One consent as the plans service published it; ``revoked_at`` is set by a later revocation."""

    consent_id: str
    citizen_id: UUID
    recipient_kind: str  # "organisation" or "group" (e.g. relatives); partners are organisations
    recipient_id: str
    category: str
    given_at: datetime
    revoked_at: datetime | None = None

    def in_force(self, at: datetime) -> bool:
        """Revocation applies to everything at or after ``revoked_at`` (plans' ConsentRevokedV1)."""
        if self.given_at > at:
            return False
        return self.revoked_at is None or at < self.revoked_at

    def covers(self, org: str, category: str) -> bool:
        return self.recipient_kind == "organisation" and self.recipient_id == org and self.category == category


def record_given(
    existing: ConsentRecord | None,
    *,
    consent_id: str,
    citizen_id: UUID,
    recipient_kind: str,
    recipient_id: str,
    category: str,
    given_at: datetime,
) -> ConsentRecord:
    """Read-model update for ``consent-given``; a revocation already seen (replay) is kept."""
    return ConsentRecord(
        consent_id, citizen_id, recipient_kind, recipient_id, category, given_at,
        revoked_at=existing.revoked_at if existing else None,
    )


def record_revoked(
    existing: ConsentRecord | None,
    *,
    consent_id: str,
    citizen_id: UUID,
    recipient_kind: str,
    recipient_id: str,
    category: str,
    given_at: datetime,
    revoked_at: datetime,
) -> ConsentRecord:
    """Read-model update for ``consent-revoked``; the earliest revocation wins, so a replayed or late
    event can never make a consent last longer."""
    record = existing or ConsentRecord(consent_id, citizen_id, recipient_kind, recipient_id, category, given_at)
    if record.revoked_at is not None and record.revoked_at <= revoked_at:
        return record
    return replace(record, revoked_at=revoked_at)


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
    if category is None:
        return DeliveryDecision(False, f"{event_type} is never delivered to partners")
    recorded_basis = event_data.get("legal_basis")
    if isinstance(recorded_basis, str) and event_type.startswith(LEGAL_BASES.get(recorded_basis, "\0")):
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
