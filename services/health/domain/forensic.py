"""Forensic psychiatry (retspsykiatri): the treatment order (behandlingsdom) and its conditions,
the weekly depot-medication visits by forensic nurses ([4]:7325-7327), and the log of when coercion is
considered ([4]:7188-7193): the nurse consultant argues for the least intrusive measure
(mindstemiddelsprincippet), so every entry says which less intrusive alternative was tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Iterable, Sequence

from services.health.domain.errors import HealthRuleViolation
from services.health.domain.hospital_notices import DANISH_TIME, NoticeRecord, admission_state

# --- behandlingsdom ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TreatmentOrder:
    court: str  # e.g. "Retten i Aarhus"
    judgment_date: date
    conditions: tuple[str, ...]  # e.g. "depot medication weekly", "lives at the botilbud"
    valid_until: date | None = None  # orders are often without a fixed end (tidsubestemt)
    forensic_team_org: str | None = None  # the forensic psychiatry team following the citizen


def validate_treatment_order(order: TreatmentOrder) -> TreatmentOrder:
    if not order.court.strip():
        raise HealthRuleViolation("angiv den ret, der afsagde behandlingsdommen")
    if not order.conditions or any(not c.strip() for c in order.conditions):
        raise HealthRuleViolation("angiv behandlingsdommens vilkår, ét pr. linje, ingen tomme")
    if len(set(c.strip().lower() for c in order.conditions)) != len(order.conditions):
        raise HealthRuleViolation("et vilkår står der to gange")
    if order.valid_until is not None and order.valid_until < order.judgment_date:
        raise HealthRuleViolation("gyldig til-datoen ligger før domsdatoen")
    return order


def order_in_force(order: TreatmentOrder, on: date) -> bool:
    return order.judgment_date <= on and (order.valid_until is None or on <= order.valid_until)


# --- weekly depot-medication visits ------------------------------------------------------------


@dataclass(frozen=True)
class DepotSchedule:
    weekday: int  # 0 = Monday
    at: time  # local time of the visit
    starts_on: date
    ends_on: date | None = None
    grace: timedelta = timedelta(hours=4)  # a visit later than this after the slot counts as missed
    interval_weeks: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise HealthRuleViolation("ugedagen er 0 (mandag) til 6 (søndag)")
        if not 1 <= self.interval_weeks <= 4:
            raise HealthRuleViolation("depotbesøg er hver 1.–4. uge")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise HealthRuleViolation("planen slutter, før den begynder")
        if not timedelta(0) < self.grace <= timedelta(days=2):
            raise HealthRuleViolation("fristen er mere end 0 og højst 2 dage")


def expected_visits(schedule: DepotSchedule, from_day: date, to_day: date) -> list[datetime]:
    """Visit slots (local time) between two days, both included."""
    first = schedule.starts_on + timedelta(days=(schedule.weekday - schedule.starts_on.weekday()) % 7)
    last = min(to_day, schedule.ends_on) if schedule.ends_on else to_day
    slots = []
    day = first
    step = timedelta(weeks=schedule.interval_weeks)
    while day <= last:
        if day >= from_day:
            slots.append(datetime.combine(day, schedule.at, tzinfo=DANISH_TIME))
        day += step
    return slots


class VisitOutcome(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"  # the citizen said no; the forensic team must know
    NOT_MET = "not-met"  # the nurse came but did not meet the citizen


@dataclass(frozen=True)
class DepotVisit:
    visited_at: datetime
    outcome: VisitOutcome


class MissReason(StrEnum):
    NOT_RECORDED = "not-recorded"
    REFUSED = "refused"
    NOT_MET = "not-met"


# What staff read on the timeline.
VISIT_OUTCOME_DA = {"given": "givet", "refused": "borgeren sagde nej", "not-met": "borgeren blev ikke truffet"}
MISS_REASON_DA = {"not-recorded": "ikke registreret", "refused": "borgeren sagde nej", "not-met": "borgeren blev ikke truffet"}


@dataclass(frozen=True)
class MissedVisit:
    scheduled_for: datetime
    reason: MissReason


def missed_visits(
    schedule: DepotSchedule,
    visits: Iterable[DepotVisit],
    *,
    now: datetime,
    since: date,
    notices: Sequence[NoticeRecord] = (),
) -> list[MissedVisit]:
    """Slots since ``since`` whose grace period has passed without a dose given.

    A visit counts for a slot when it falls within a day before to ``grace`` after it (nurses come a
    bit early or late). A slot during an admission is not missed: the ward gives the depot then.
    """
    remaining = sorted(visits, key=lambda v: v.visited_at)
    missed: list[MissedVisit] = []
    for slot in expected_visits(schedule, since, now.astimezone(DANISH_TIME).date()):
        if slot + schedule.grace > now:
            continue  # still time
        window = [v for v in remaining if slot - timedelta(days=1) <= v.visited_at <= slot + schedule.grace]
        given = next((v for v in window if v.outcome is VisitOutcome.GIVEN), None)
        if given is not None:
            remaining.remove(given)  # one visit covers one slot
            continue
        if notices and admission_state(notices, at=slot).in_hospital_care:
            continue
        if window:
            reason = MissReason.REFUSED if any(v.outcome is VisitOutcome.REFUSED for v in window) else MissReason.NOT_MET
            for v in window:
                remaining.remove(v)
        else:
            reason = MissReason.NOT_RECORDED
        missed.append(MissedVisit(slot, reason))
    return missed


# --- coercion considered ---------------------------------------------------------------------


class CoercionMeasure(StrEnum):
    COMPULSORY_ADMISSION = "compulsory-admission"  # tvangsindlæggelse
    ACTIVATE_TREATMENT_ORDER = "activate-treatment-order"  # aktivering af behandlingsdom
    FORCED_MEDICATION = "forced-medication"  # tvangsmedicinering (by the psychiatric ward)
    OTHER = "other"


class CoercionDecision(StrEnum):
    NOT_USED = "not-used"  # the less intrusive alternative was enough
    REFERRED = "referred"  # handed to psychiatry / forensic psychiatry to decide
    USED = "used"


@dataclass(frozen=True)
class CoercionConsidered:
    considered_at: datetime
    measure: CoercionMeasure
    situation: str  # what happened, observed, not judged
    least_intrusive_alternative: str  # what was tried first (mindstemiddelsprincippet)
    decision: CoercionDecision
    decided_by_sub: str
    decided_by_role: str
    participants: tuple[str, ...] = ()
    citizen_informed: bool = False


def validate_coercion_entry(entry: CoercionConsidered, *, recorded_at: datetime, has_treatment_order: bool) -> CoercionConsidered:
    if entry.considered_at.tzinfo is None:
        raise HealthRuleViolation("tidspunktet skal have en tidszone")
    if entry.considered_at > recorded_at:
        raise HealthRuleViolation("tidspunktet ligger i fremtiden")
    if not entry.situation.strip():
        raise HealthRuleViolation("beskriv situationen, hvor tvang blev overvejet")
    if not entry.least_intrusive_alternative.strip():
        raise HealthRuleViolation(
            "angiv det mindst indgribende alternativ, der blev prøvet eller overvejet først (mindstemiddelsprincippet)"
        )
    if not entry.decided_by_sub.strip() or not entry.decided_by_role.strip():
        raise HealthRuleViolation("angiv, hvem der besluttede, og i hvilken rolle")
    if entry.measure is CoercionMeasure.ACTIVATE_TREATMENT_ORDER and not has_treatment_order:
        raise HealthRuleViolation("borgeren har ingen registreret behandlingsdom, så ingen kan aktiveres")
    return entry
