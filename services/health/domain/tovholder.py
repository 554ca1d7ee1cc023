"""The tovholder: each citizen chooses one of the botilbud's nurse consultants ([4]:7280-7281), who is
the single entry point for external actors; every external contact goes on the health timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Collection

from services.health.domain.errors import HealthRuleViolation


@dataclass(frozen=True)
class TovholderChoice:
    nurse_consultant_sub: str
    botilbud_id: str
    previous_sub: str | None

    @property
    def changed(self) -> bool:
        return self.previous_sub != self.nurse_consultant_sub


def choose_tovholder(
    *, current_sub: str | None, chosen_sub: str, botilbud_id: str, nurse_consultants_of_botilbud: Collection[str]
) -> TovholderChoice:
    """The choice is among the nurse consultants of the citizen's own botilbud. Choosing the current
    one again is not a change (no event)."""
    chosen_sub = chosen_sub.strip()
    if not chosen_sub:
        raise HealthRuleViolation("vælg en sygeplejekonsulent")
    if chosen_sub not in nurse_consultants_of_botilbud:
        raise HealthRuleViolation(
            f"{chosen_sub} er ikke sygeplejekonsulent på botilbud {botilbud_id}; borgeren vælger blandt botilbuddets egne"
        )
    return TovholderChoice(chosen_sub, botilbud_id, current_sub)


class ContactKind(StrEnum):
    HOSPITAL_NOTICE = "hospital-notice"
    MEDICATION_CHANGE = "medication-change"
    PARTNER_DOCUMENT = "partner-document"
    HEALTH_CHECK = "health-check"
    DEPOT_VISIT = "depot-visit"
    COURT = "court"  # court dates and papers
    PHONE = "phone"
    MEETING = "meeting"
    LETTER = "letter"
    OTHER = "other"


# The actors the nurse consultant coordinates with ([4]:2670-2677, 7274-7284).
KNOWN_COUNTERPARTS = (
    "probation", "hospital", "forensic-psychiatry", "gp", "specialist-dentistry", "lawyer",
    "drug-centre", "pharmacy", "physiotherapist", "psychiatric-ward", "emergency-department", "psychiatrist",
)


@dataclass(frozen=True)
class ExternalContact:
    """Who, which organisation, what, when."""

    kind: ContactKind
    counterpart: str  # one of KNOWN_COUNTERPARTS or free
    org: str  # e.g. "SOR:1234567" or the organisation's name
    who: str | None  # the person at the organisation, if known
    what: str  # short summary
    occurred_at: datetime
    recorded_by: str  # sub of the staff member or "partner:<org>"


def validate_contact(contact: ExternalContact, *, recorded_at: datetime) -> ExternalContact:
    if contact.occurred_at.tzinfo is None:
        raise HealthRuleViolation("tidspunktet skal have en tidszone")
    if contact.occurred_at > recorded_at:
        raise HealthRuleViolation("kontakten er dateret i fremtiden")
    if not contact.org.strip():
        raise HealthRuleViolation("angiv den organisation, der blev kontaktet")
    if not contact.what.strip():
        raise HealthRuleViolation("skriv kort, hvad kontakten handlede om")
    if len(contact.what) > 500:
        raise HealthRuleViolation("hold resuméet under 500 tegn")
    return contact


# Partner documents on the timeline: who the counterpart is, and the line for each kind.
DOCUMENT_COUNTERPART = {"lab-results": "gp", "pharmacist-review": "pharmacy", "psychiatrist-notes": "psychiatrist"}
DOCUMENT_WORDS = {
    "lab-results": "Blodprøvesvar og målinger modtaget",
    "pharmacist-review": "Den kliniske farmaceuts medicingennemgang modtaget",
    "psychiatrist-notes": "Notat fra psykiateren modtaget",
}
