"""Medication: Tovholder points at the national medication card (FMK, Fælles Medicinkort); it never
copies it. A change is recorded with a reference into FMK (by a partner's system or by staff), and a
change made while the citizen is in hospital care raises an alert for the tovholder: sudden changes by
a doctor who does not know the citizen are what the nurse consultant watches for ([4]:7300-7306).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Sequence

from services.health.domain.errors import HealthRuleViolation
from services.health.domain.hospital_notices import CitizenAdmission, NoticeRecord, admission_state

MAX_NOTE_LENGTH = 500

# An FMK reference is an opaque identifier from FMK (e.g. a drug-medication or ordination id). It is
# short and has no spaces; a longer text is probably a pasted medication list, which must stay in FMK.
_FMK_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._\-]{2,99}$")


class ChangeKind(StrEnum):
    STARTED = "started"
    STOPPED = "stopped"
    DOSE_CHANGED = "dose-changed"
    PAUSED = "paused"
    OTHER = "other"


CHANGE_WORDS = {
    ChangeKind.STARTED: "startet",
    ChangeKind.STOPPED: "stoppet",
    ChangeKind.DOSE_CHANGED: "dosis ændret",
    ChangeKind.PAUSED: "pauseret",
    ChangeKind.OTHER: "anden ændring",
}


class ChangeSource(StrEnum):
    PARTNER = "partner"  # a regional system (hospital, GP, pharmacist) via the integration endpoint
    STAFF = "staff"  # recorded by the nurse consultant or medication-responsible staff
    HEALTH_CHECK = "health-check"  # a decision at the annual health check


@dataclass(frozen=True)
class FmkReference:
    value: str

    def __post_init__(self) -> None:
        if not _FMK_REFERENCE.match(self.value or ""):
            raise HealthRuleViolation(
                "FMK-referencen skal være id'et på posten i FMK (3–100 bogstaver, tal eller :._-); "
                "Tovholder gemmer ikke medicinlister, kun hvor de findes",
                en="fmk_reference must be the identifier of the entry in FMK (3–100 letters, digits or :._-); "
                   "Tovholder does not store medication lists, only where to find them",
            )


@dataclass(frozen=True)
class MedicationChange:
    fmk_reference: FmkReference
    kind: ChangeKind
    changed_at: datetime
    source: ChangeSource
    changed_by_org: str | None = None  # who made the change, e.g. the hospital's SOR code
    note: str | None = None  # why, briefly (e.g. "reduced at the health check")


def validate_change(change: MedicationChange, *, recorded_at: datetime) -> MedicationChange:
    if change.changed_at.tzinfo is None:
        raise HealthRuleViolation("tidspunktet for ændringen skal have en tidszone", en="changed_at needs a time zone offset")
    if change.changed_at > recorded_at:
        raise HealthRuleViolation("ændringen ligger i fremtiden; registrér den, når den er lavet i FMK",
                                  en="changed_at is in the future; record a change once it is made in FMK")
    if change.note is not None and len(change.note) > MAX_NOTE_LENGTH:
        raise HealthRuleViolation(f"noten er længere end {MAX_NOTE_LENGTH} tegn; detaljerne hører til i FMK",
                                  en=f"the note is longer than {MAX_NOTE_LENGTH} characters; details belong in FMK")
    if change.source is ChangeSource.PARTNER and not change.changed_by_org:
        raise HealthRuleViolation("en ændring fra en samarbejdspartner skal nævne organisationen, der lavede den",
                                  en="a change from a partner names the organisation that made it")
    return change


@dataclass(frozen=True)
class MedicationAlert:
    """Raised for the tovholder: the change happened during an admission (or a leave from one)."""

    hospital_episodes: tuple[str, ...]
    admission_state: str
    reason: str


def alert_for(change: MedicationChange, notices: Sequence[NoticeRecord]) -> MedicationAlert | None:
    """A change made while the citizen was admitted or on leave raises an alert; otherwise none."""
    state: CitizenAdmission = admission_state(notices, at=change.changed_at)
    if not state.in_hospital_care:
        return None
    return MedicationAlert(
        hospital_episodes=state.open_episodes,
        admission_state=state.state.value,
        reason=f"Medicinændring ({CHANGE_WORDS[change.kind]}) under indlæggelse: tjek FMK og tal med afdelingen",
    )
