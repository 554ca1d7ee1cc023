"""The citizen's timeline across the services and the visitation board, both built from events.

Events carry no clinical free text, so a timeline line says *what kind* of thing happened and when;
details stay in the owning service behind its own access rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.notifications.domain.clock import LOCAL_TZ, as_date, as_datetime

SERVICE_LABELS_DA = {"referrals": "Visitation", "plans": "Borgerens Plan", "health": "Sundhed", "notifications": "Opgaver"}

# The body field that says when the thing happened, in order of preference.
_TIME_FIELDS = (
    "occurred_at", "decided_at", "received_at", "withdrawn_at", "given_at", "revoked_at", "rated_at", "revised_at",
    "held_at", "raised_at", "changed_at", "completed_at", "added_at", "removed_at", "opened_at", "created_at",
    "declined_at", "cancelled_at", "considered_at", "scheduled_for", "starts_at", "episode_ended_at",
)
_DATE_FIELDS = ("moved_in_on", "ended_on", "planned_on", "held_on", "due_on", "follow_up_date", "judgment_date")

_NOTICE_KINDS_DA = {
    "admission": "indlagt", "discharge": "udskrevet", "leave-started": "på orlov", "leave-ended": "tilbage fra orlov",
    "death": "meldt død",
}
_LA2_DA = {"red": "rød", "yellow": "gul", "green": "grøn"}


def _d(value: Any) -> str:
    return as_date(value, "dato").strftime("%d.%m.%Y") if value else "?"


TITLES: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "referrals.citizen-registered": lambda d: "Borgeren er registreret i visitationen",
    "referrals.referral-received": lambda d: "Henvisning modtaget" + (f" fra {d['referrer_org']}" if d.get("referrer_org") else ""),
    "referrals.visitation-decided": lambda d: (
        f"Visitation bevilget ({d.get('legal_basis')}, trin {d.get('step') or '?'})"
        + (" – på venteliste" if d.get("waitlisted") else "")
        if d.get("decision") == "granted" else f"Afslag på visitation ({d.get('legal_basis')})"
    ),
    "referrals.referral-withdrawn": lambda d: "Henvisningen er trukket tilbage",
    "referrals.placement-started": lambda d: f"Flyttet ind på botilbud (trin {d.get('step')})",
    "referrals.move-out-planned": lambda d: f"Udflytning planlagt til {_d(d.get('planned_on'))}",
    "referrals.placement-ended": lambda d: "Opholdet er afsluttet" + (" – et trin ned ad indsatstrappen" if d.get("stepped_down") else ""),
    "referrals.follow-up-due": lambda d: f"Visitationsopfølgning forfalder {_d(d.get('follow_up_date'))}",
    "referrals.temporary-stay-drifting": lambda d: "Midlertidigt ophold (§ 107) i drift: "
    + ("over den planlagte periode" if d.get("reason") == "past-planned-period" else "opfølgninger uden bevægelse"),
    "referrals.follow-up-held": lambda d: "Visitationsopfølgning holdt",
    "plans.plan-opened": lambda d: "Borgerens Plan er oprettet",
    "plans.plan-version-created": lambda d: f"Borgerens Plan ændret (version {d.get('version')})",
    "plans.follow-up-due": lambda d: f"Opfølgning på planen forfalder {_d(d.get('due_on'))}",
    "plans.follow-up-recorded": lambda d: "Opfølgning på planen holdt",
    "plans.network-member-added": lambda d: "Ny i netværket",
    "plans.network-member-removed": lambda d: "Ude af netværket",
    "plans.safety-rating-changed": lambda d: f"LA2-vurdering: {_LA2_DA.get(d.get('level'), d.get('level'))}",
    "plans.tryghedsplan-revised": lambda d: f"Tryghedsplanen revideret (version {d.get('version')})",
    "plans.learning-plan-due": lambda d: "Læringsplan skal skrives",
    "plans.learning-plan-completed": lambda d: "Læringsplan skrevet",
    "plans.fit-recorded": lambda d: "FIT-samtale holdt",
    "plans.network-meeting-requested": lambda d: f"Borgeren har bedt om et netværksmøde (senest {_d(d.get('due_on'))})",
    "plans.network-meeting-scheduled": lambda d: "Netværksmødet har fået en tid",
    "plans.network-meeting-closed": lambda d: "Netværksmødet er holdt" if d.get("outcome") == "held" else "Netværksmødet er aflyst",
    "plans.consent-given": lambda d: f"Samtykke givet ({d.get('category')}) til {d.get('recipient_name') or d.get('recipient_id')}",
    "plans.consent-revoked": lambda d: f"Samtykke trukket tilbage ({d.get('category')}) fra {d.get('recipient_id')}",
    "health.health-record-opened": lambda d: "Sundhedsjournal oprettet",
    "health.tovholder-chosen": lambda d: "Borgeren har valgt tovholder",
    "health.hospital-notice-registered": lambda d: f"Hospitalsadvis: {_NOTICE_KINDS_DA.get(d.get('kind'), d.get('kind'))} ({d.get('department')})",
    "health.hospital-notice-corrected": lambda d: f"Hospitalsadvis rettet: {_NOTICE_KINDS_DA.get(d.get('kind'), d.get('kind'))}",
    "health.hospital-notice-cancelled": lambda d: "Hospitalsadvis annulleret",
    "health.medication-changed": lambda d: "Medicinændring i FMK",
    "health.medication-alert-raised": lambda d: "Medicinændring under indlæggelse",
    "health.medication-alert-acknowledged": lambda d: "Medicinadvarsel kvitteret",
    "health.health-check-plan-entry-proposed": lambda d: f"Forslag til Borgerens Plan fra sundhedstjek: {d.get('title')}",
    "health.health-check-scheduled": lambda d: "Sundhedstjek planlagt",
    "health.health-check-step-due": lambda d: "Forberedelse af sundhedstjek",
    "health.health-check-step-completed": lambda d: "Forberedelse af sundhedstjek udført",
    "health.health-check-declined": lambda d: "Borgeren takkede nej til sundhedstjek",
    "health.health-check-cancelled": lambda d: "Sundhedstjek aflyst",
    "health.health-check-held": lambda d: "Sundhedstjek holdt",
    "health.health-check-decision-recorded": lambda d: f"Aftale fra sundhedstjek: {d.get('title')}",
    "health.partner-document-received": lambda d: f"Dokument modtaget fra {d.get('sender_org')}",
    "health.treatment-order-recorded": lambda d: "Behandlingsdom registreret",
    "health.depot-visit-missed": lambda d: "Depotbesøg udeblevet",
    "health.coercion-considered": lambda d: "Tvang overvejet (mindste middel)",
    "health.external-contact-recorded": lambda d: "Kontakt med ekstern aktør",
    "notifications.task-created": lambda d: f"Opgave oprettet: {d.get('title') or d.get('kind')}",
    "notifications.task-completed": lambda d: f"Opgave udført: {d.get('kind')}",
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    event_id: str
    event_type: str
    citizen_id: UUID
    occurred_at: datetime
    service: str
    title: str

    @property
    def service_label(self) -> str:
        return SERVICE_LABELS_DA.get(self.service, self.service)


def _short_type(event_type: str) -> tuple[str, str]:
    parts = event_type.split(".")
    if len(parts) >= 4 and parts[0] == "tovholder":
        return parts[1], f"{parts[1]}.{parts[2]}"
    return "ukendt", event_type


def occurred_at(data: Mapping[str, Any], fallback: datetime) -> datetime:
    for name in _TIME_FIELDS:
        if data.get(name):
            try:
                return as_datetime(data[name], name)
            except Exception:  # noqa: BLE001 - a malformed optional time falls back to the event time
                break
    for name in _DATE_FIELDS:
        if data.get(name):
            day: date = as_date(data[name], name)
            return datetime(day.year, day.month, day.day, 12, tzinfo=LOCAL_TZ)
    return fallback


def timeline_entry(*, event_id: str, event_type: str, citizen_id: UUID, time: datetime, data: Mapping[str, Any]) -> TimelineEntry:
    service, short = _short_type(event_type)
    describe = TITLES.get(short)
    title = describe(data) if describe else f"Hændelse: {short.split('.')[-1]}"
    return TimelineEntry(event_id, event_type, citizen_id, occurred_at(data, time), service, title)


# ---------------------------------------------------------------- visitation board


class CaseStatus(StrEnum):
    RECEIVED = "received"
    WAITLISTED = "waitlisted"
    GRANTED = "granted"
    REFUSED = "refused"
    MOVED_IN = "moved-in"
    MOVE_OUT_PLANNED = "move-out-planned"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"

    @property
    def label_da(self) -> str:
        return BOARD_COLUMNS_DA[self]


# Column order on the board: the path a case takes.
BOARD_COLUMNS_DA: dict[CaseStatus, str] = {
    CaseStatus.RECEIVED: "Modtaget",
    CaseStatus.WAITLISTED: "Venteliste",
    CaseStatus.GRANTED: "Bevilget",
    CaseStatus.MOVED_IN: "Flyttet ind",
    CaseStatus.MOVE_OUT_PLANNED: "Udflytning planlagt",
    CaseStatus.REFUSED: "Afslag",
    CaseStatus.ENDED: "Afsluttet",
    CaseStatus.WITHDRAWN: "Trukket tilbage",
}


@dataclass(frozen=True, slots=True)
class CaseUpdate:
    referral_id: UUID
    status: CaseStatus
    at: datetime
    step: int | None = None
    botilbud_id: str | None = None
    legal_basis: str | None = None


def case_update(event_type: str, data: Mapping[str, Any], time: datetime) -> CaseUpdate | None:
    """Which board column a referrals event moves its case to (``None``: not a case event)."""
    _, short = _short_type(event_type)
    status: CaseStatus | None = {
        "referrals.referral-received": CaseStatus.RECEIVED,
        "referrals.referral-withdrawn": CaseStatus.WITHDRAWN,
        "referrals.placement-started": CaseStatus.MOVED_IN,
        "referrals.move-out-planned": CaseStatus.MOVE_OUT_PLANNED,
        "referrals.placement-ended": CaseStatus.ENDED,
    }.get(short)
    if short == "referrals.visitation-decided":
        if data.get("decision") == "granted":
            status = CaseStatus.WAITLISTED if data.get("waitlisted") else CaseStatus.GRANTED
        else:
            status = CaseStatus.REFUSED
    if status is None or not data.get("referral_id"):
        return None
    step = data.get("step") or data.get("requested_step") or data.get("current_step")
    return CaseUpdate(
        referral_id=UUID(str(data["referral_id"])),
        status=status,
        at=occurred_at(data, time),
        step=step,
        botilbud_id=data.get("botilbud_id"),
        legal_basis=data.get("legal_basis") or data.get("requested_offer"),
    )
