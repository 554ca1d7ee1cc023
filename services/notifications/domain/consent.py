"""The consent gate: may this partner receive this event about this citizen, right now?

The decision itself is the kit's (``tovholder.consent.decide``); this module says which consent
category an event falls under; the read model of plans' consents is the kit's
(``tovholder.consent_read_model``). A partner receives an
event only where
- a consent of the citizen, in force at the moment of delivery, covers the partner's organisation
  and the event's category; or
- a legal basis recorded on the event names the partner as a recipient. Hospital notices carry
  retssikkerhedsloven § 12 c, which lets them reach the municipality but names no partner to pass them
  on to: they reach a partner only under the citizen's consent for ``health`` to that organisation.

A revocation applies to everything after it: it is checked before *every* attempt, so queued
retries of older events stop too. The answer always carries a reason (Danish, and ``en`` in English), whose
English is stored in the partner's delivery log when nothing is delivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from tovholder import consent as kit

# The categories a citizen consents to (plans' ``ConsentCategory``): plan, health, safety-plan, fit.
PLAN = "plan"
HEALTH = "health"
SAFETY_PLAN = "safety-plan"
FIT = "fit"

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


def legal_basis_without_consent(event_type: str, partner_org: str) -> str | None:
    """The provision, if any, under which ``partner_org`` receives ``event_type`` without consent."""
    category = category_of(event_type)
    if category is None:
        return None
    bases = kit.legal_bases_naming(kit.Recipient.organisation(partner_org), category)
    return bases[0].reference if bases else None


def decide(
    *,
    event_type: str,
    event_data: Mapping[str, Any],
    partner_org: str,
    consents: Iterable[kit.Consent],
    at: datetime,
) -> kit.Decision:
    """``consents`` are the citizen's (the read model's, ``repository.consents``), never another's."""
    category = category_of(event_type)
    if category is None:
        return kit.refused(f"{event_type} sendes aldrig til samarbejdspartnere",
                           en=f"{event_type} is never delivered to partners")
    recorded_basis = event_data.get("legal_basis")
    return kit.decide(
        consents=consents,
        legal_basis=recorded_basis if isinstance(recorded_basis, str) else None,
        recipient=kit.Recipient.organisation(partner_org),
        category=category,
        at=at,
    )


def may_know_of(*, partner_org: str, consents: Iterable[kit.Consent], at: datetime) -> bool:
    """May ``partner_org`` learn which citizen a CPR it holds is (``POST /integration/v1/citizen-references``):
    only where a consent of the citizen to the organisation is in force, for any category, or a legal
    basis names the organisation as a recipient of one of the categories."""
    recipient = kit.Recipient.organisation(partner_org)
    if any(c.recipient == recipient and c.in_force(at) for c in consents):
        return True
    return any(kit.legal_bases_naming(recipient, category) for category in (PLAN, HEALTH, SAFETY_PLAN, FIT))
