"""The citizen's consent registry and the one decision every service makes before sharing.

Consent is per recipient × information category (DIGEST section 4):
- a recipient is an organisation (a named psychiatric department, a GP practice, another botilbud;
  identified e.g. by its SOR code) or a group (relatives);
- categories: the plan, health information, the safety plan (tryghedsplan), FIT;
- consent is given and revoked with a time and who recorded it; a revocation applies to everything
  shared after it, never to what was shared before;
- some information flows without consent on a legal basis — only to the recipients that basis names
  (the kit's table, ``tovholder.consent.LEGAL_BASES``; hospital notices under retssikkerhedsloven
  § 12 c reach the municipality, and a partner only under the citizen's consent).

This module has no I/O and takes plain values (strings, datetimes, records) so the notifications
service's read model can import ``may_receive`` directly. Sharing inside the citizen's own network is
not a consent question; it is decided by the plans service's access rules.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable
from uuid import UUID

from services.plans.domain.errors import PlanRuleViolation, UnknownCategory
from tovholder import consent as kit_consent


class RecipientKind(str, enum.Enum):
    ORGANISATION = "organisation"
    GROUP = "group"


class Category(str, enum.Enum):
    PLAN = "plan"
    HEALTH = "health"
    SAFETY_PLAN = "safety-plan"
    FIT = "fit"
    # Admission/discharge notices: never given by consent, flows only on a legal basis.
    HOSPITAL_NOTICE = "hospital-notice"


CONSENTABLE_CATEGORIES = frozenset({Category.PLAN, Category.HEALTH, Category.SAFETY_PLAN, Category.FIT})

# Groups the registry knows; organisations are open-ended (any SOR code or named organisation).
KNOWN_GROUPS = frozenset({"relatives"})


def parse_category(value: str | Category, *, consentable: bool = False) -> Category:
    try:
        category = Category(value)
    except ValueError:
        known = CONSENTABLE_CATEGORIES if consentable else set(Category)
        raise UnknownCategory(
            f"ukendt oplysningskategori {value!r}; kendte: {', '.join(sorted(c.value for c in known))}",
            field="category",
        ) from None
    if consentable and category not in CONSENTABLE_CATEGORIES:
        raise UnknownCategory(
            f"{category.value} deles med hjemmel i loven, ikke efter samtykke; samtykkekategorierne er "
            f"{', '.join(sorted(c.value for c in CONSENTABLE_CATEGORIES))}",
            field="category",
        )
    return category


def parse_recipient(kind: str | RecipientKind, recipient_id: str) -> tuple[RecipientKind, str]:
    try:
        kind = RecipientKind(kind)
    except ValueError:
        raise PlanRuleViolation("en modtager er en organisation eller en gruppe", field="recipient_kind") from None
    recipient_id = (recipient_id or "").strip()
    if not recipient_id:
        raise PlanRuleViolation("angiv, hvilken organisation eller gruppe der modtager oplysningerne", field="recipient_id")
    if kind == RecipientKind.GROUP and recipient_id not in KNOWN_GROUPS:
        raise PlanRuleViolation(
            f"ukendt gruppe {recipient_id!r}; kendte grupper: {', '.join(sorted(KNOWN_GROUPS))}", field="recipient_id"
        )
    return kind, recipient_id


@dataclass(frozen=True)
class ConsentRecord:
    """One consent as every service's read model keeps it (from ConsentGivenV1/ConsentRevokedV1)."""

    consent_id: UUID
    recipient_kind: str
    recipient_id: str
    category: str
    given_at: datetime
    given_by: str  # who recorded it
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    recipient_name: str | None = None

    def covers(self, at: datetime) -> bool:
        # Half-open: in force from the moment it was given until the moment it was revoked.
        return self.given_at <= at and (self.revoked_at is None or at < self.revoked_at)


# What may flow without consent, and to whom: the kit's one table (tovholder.consent.LEGAL_BASES),
# where each legal basis names the recipients it opens delivery to. The basis recorded on a
# category's information by default: hospital notices carry retssikkerhedsloven § 12 c.
BASIS_RECORDED_ON = {Category.HOSPITAL_NOTICE: "retssikkerhedsloven § 12 c"}


class DecisionBasis(str, enum.Enum):
    CONSENT = "consent"
    LEGAL_BASIS = "legal-basis"
    NONE = "none"


@dataclass(frozen=True)
class ConsentDecision:
    allowed: bool
    basis: DecisionBasis
    reason: str  # Danish (the kit's decision), for the citizen and staff
    consent_id: UUID | None = None
    legal_reference: str | None = None
    en: str = ""  # the same in English, for a partner

    def __bool__(self) -> bool:
        return self.allowed


def may_receive(*, recipient_kind: str, recipient_id: str, category: str, at: datetime,
                consents: Iterable[ConsentRecord], legal_basis: str | None = None) -> ConsentDecision:
    """May this recipient receive information of this category about the citizen at time ``at``?

    ``consents`` are the citizen's records (other citizens' records must not be passed in). The
    decision is the kit's (``tovholder.consent.decide``), the one every service uses; it names its
    basis so the sharer can record it.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        # A naive time cannot be compared honestly with recorded consent times.
        raise PlanRuleViolation("tidspunktet for delingen skal have en tidszone", field="at")
    category = parse_category(category)
    try:
        kind = RecipientKind(recipient_kind)
    except ValueError:
        raise PlanRuleViolation("en modtager er en organisation eller en gruppe", field="recipient_kind") from None
    # Only this recipient's consents for this category can decide it: convert those, not the registry.
    relevant = [c for c in consents
                if c.recipient_id == recipient_id and c.category == category.value and c.recipient_kind == kind.value]
    decision = kit_consent.decide(
        consents=[kit_consent.Consent(str(c.consent_id), kit_consent.Recipient(c.recipient_kind, c.recipient_id),
                                      c.category, c.given_at, c.revoked_at) for c in relevant],
        legal_basis=legal_basis or BASIS_RECORDED_ON.get(category),
        recipient=kit_consent.Recipient(kind.value, recipient_id), category=category.value, at=at,
    )
    return ConsentDecision(decision.allowed, DecisionBasis(decision.grounds.value), decision.reason,
                           consent_id=UUID(decision.consent_id) if decision.consent_id else None,
                           legal_reference=decision.legal_basis, en=decision.en)


def give(*, consent_id: UUID, recipient_kind: str, recipient_id: str, category: str, at: datetime, by: str,
         existing: Iterable[ConsentRecord], recipient_name: str | None = None) -> ConsentRecord:
    """Record a new consent. One in force per recipient × category: giving it twice is a mistake."""
    kind, recipient_id = parse_recipient(recipient_kind, recipient_id)
    category = parse_category(category, consentable=True)
    if at.tzinfo is None or at.utcoffset() is None:
        raise PlanRuleViolation("tidspunktet for samtykket skal have en tidszone", field="given_at")
    for c in existing:
        if (c.recipient_kind, c.recipient_id, c.category) == (kind.value, recipient_id, category.value) \
                and c.revoked_at is None:
            raise PlanRuleViolation("borgeren har allerede dette samtykke i kraft", field="category")
    return ConsentRecord(consent_id=consent_id, recipient_kind=kind.value, recipient_id=recipient_id,
                         category=category.value, given_at=at, given_by=by, recipient_name=recipient_name)


def revoke(record: ConsentRecord, *, at: datetime, by: str) -> ConsentRecord:
    if record.revoked_at is not None:
        raise PlanRuleViolation("samtykket er allerede tilbagekaldt", field="consent_id")
    if at.tzinfo is None or at.utcoffset() is None:
        raise PlanRuleViolation("tidspunktet for tilbagekaldelsen skal have en tidszone", field="revoked_at")
    if at < record.given_at:
        raise PlanRuleViolation("et samtykke kan ikke tilbagekaldes, før det er givet", field="revoked_at")
    return ConsentRecord(**{**record.__dict__, "revoked_at": at, "revoked_by": by})
