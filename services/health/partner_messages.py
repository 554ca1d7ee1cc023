"""Partner documents (lab results, the pharmacist's review, the psychiatrist's notes) and medication
changes from partners: the use cases behind their integration endpoints, and the messages parked
because their CPR matched no citizen known to the municipality.

A receipt never reveals whether a CPR belongs to a known citizen. So a message about an unknown
CPR is accepted (``ok``) like any other and parked — only the CPR's keyed hash is kept — and recorded
on the citizen, as if it had just arrived, when the municipality registers them
(``match_parked``, from the CitizenRegistered handler). A known citizen without a health record yet
(no place at a botilbud) gets the document on their citizen id; it shows once the record opens.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from contracts.health import MedicationAlertRaisedV1, MedicationChangedV1, PartnerDocumentReceivedV1
from services.health import hospital
from services.health.domain.medication import ChangeKind, ChangeSource, FmkReference, alert_for
from services.health.domain.medication import MedicationChange as DomainChange
from services.health.domain.tovholder import ContactKind
from services.health.models import (
    HealthRecord,
    KnownCitizen,
    MedicationAlert,
    MedicationChange,
    PartnerDocument,
    TimelineEntry,
    UnmatchedPartnerMessage,
)
from tovholder.auth import Principal
from tovholder.uow import UnitOfWork

MEDICATION_CHANGE = "medication-change"

COUNTERPART = {"lab-results": "gp", "pharmacist-review": "pharmacy", "psychiatrist-notes": "psychiatrist"}
DOCUMENT_WORDS = {
    "lab-results": "Lab results and measurements received",
    "pharmacist-review": "The clinical pharmacist's medication review received",
    "psychiatrist-notes": "Notes from the psychiatrist received",
}


@dataclass(frozen=True)
class KnownPerson:
    citizen_id: uuid.UUID
    record: HealthRecord | None  # None: known to the municipality, no place at a botilbud yet


async def find_citizen(uow: UnitOfWork, cpr_hash: str) -> KnownPerson | None:
    """The citizen with this CPR (hash), serialised with their other partner messages and matching."""
    await hospital.lock_cpr(uow, cpr_hash)
    citizen = (await uow.session.execute(select(KnownCitizen).where(KnownCitizen.cpr_hash == cpr_hash))).scalar_one_or_none()
    if citizen is None:
        return None
    record = (await uow.session.execute(
        select(HealthRecord).where(HealthRecord.citizen_id == citizen.citizen_id))).scalar_one_or_none()
    return KnownPerson(citizen.citizen_id, record)


async def record_document(
    uow: UnitOfWork, person: KnownPerson, *, kind: str, message_id: uuid.UUID, sender_org: str,
    sender_name: str | None, occurred_at: datetime, received_at: datetime, health_check_id: uuid.UUID | None,
    content: dict[str, Any], actor: Principal | None,
) -> uuid.UUID:
    """The document on the citizen's record and timeline, its event and audit entry."""
    document_id = uuid.uuid4()
    record = person.record
    uow.session.add(PartnerDocument(
        id=document_id, message_id=message_id, citizen_id=person.citizen_id, kind=kind, sender_org=sender_org,
        sender_name=sender_name, received_at=received_at, health_check_id=health_check_id, content=content,
    ))
    uow.session.add(TimelineEntry(
        citizen_id=person.citizen_id, kind=ContactKind.PARTNER_DOCUMENT.value, counterpart=COUNTERPART[kind],
        org=sender_org, who=sender_name, what=DOCUMENT_WORDS[kind], occurred_at=occurred_at,
        recorded_by=f"partner:{sender_org}", object_type="partner_document", object_id=str(document_id),
    ))
    uow.emit(PartnerDocumentReceivedV1(
        citizen_id=person.citizen_id, document_id=document_id, kind=kind, sender_org=sender_org,
        received_at=received_at, health_check_id=health_check_id,
        tovholder_sub=record.tovholder_sub if record else None, botilbud_id=record.botilbud_id if record else None,
    ))
    uow.audit(actor, f"partner_document.{kind}.receive", citizen_id=person.citizen_id,
              object_type="partner_document", object_id=document_id)
    return document_id


async def record_medication_change(
    uow: UnitOfWork, person: KnownPerson, change: DomainChange, *, actor: Principal | None, recorded_by: str,
    message_id: uuid.UUID | None = None,
) -> MedicationChange:
    """The change (a reference into FMK), its event, the timeline entry and — during an admission —
    an alert for the tovholder."""
    citizen_id, record = person.citizen_id, person.record
    tovholder_sub, botilbud_id = (record.tovholder_sub, record.botilbud_id) if record else (None, None)
    alert = alert_for(change, await hospital.notice_records(uow, citizen_id))
    row = MedicationChange(
        id=uuid.uuid4(), citizen_id=citizen_id, fmk_reference=change.fmk_reference.value,
        change_kind=change.kind.value, changed_at=change.changed_at, source=change.source.value,
        changed_by_org=change.changed_by_org, note=change.note, during_admission=alert is not None,
        message_id=message_id, recorded_by=recorded_by,
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.emit(MedicationChangedV1(
        citizen_id=citizen_id, change_id=row.id, fmk_reference=row.fmk_reference, change_kind=row.change_kind,
        changed_at=row.changed_at, source=row.source, changed_by_org=row.changed_by_org,
        during_admission=row.during_admission, tovholder_sub=tovholder_sub, botilbud_id=botilbud_id,
    ))
    uow.session.add(TimelineEntry(
        citizen_id=citizen_id, kind=ContactKind.MEDICATION_CHANGE.value,
        counterpart="hospital" if alert else None, org=change.changed_by_org, who=None,
        what=f"Medication {change.kind.value} in FMK ({change.fmk_reference.value})", occurred_at=change.changed_at,
        recorded_by=row.recorded_by, object_type="medication_change", object_id=str(row.id),
    ))
    if alert is not None:
        alert_row = MedicationAlert(id=uuid.uuid4(), citizen_id=citizen_id, change_id=row.id,
                                    hospital_episode_ids=list(alert.hospital_episodes), reason=alert.reason,
                                    raised_at=hospital.now_utc())
        uow.session.add(alert_row)
        uow.emit(MedicationAlertRaisedV1(
            citizen_id=citizen_id, alert_id=alert_row.id, change_id=row.id,
            hospital_episode_ids=list(alert.hospital_episodes), raised_at=alert_row.raised_at,
            tovholder_sub=tovholder_sub, botilbud_id=botilbud_id,
        ))
    uow.audit(actor, "medication_change.record", citizen_id=citizen_id, object_type="medication_change",
              object_id=row.id, detail={"during_admission": row.during_admission})
    return row


def medication_change_content(change: DomainChange) -> dict[str, Any]:
    return {"fmk_reference": change.fmk_reference.value, "change_kind": change.kind.value,
            "changed_at": change.changed_at.isoformat(), "note": change.note}


def park(
    uow: UnitOfWork, *, kind: str, message_id: uuid.UUID, sender_org: str, sender_name: str | None,
    occurred_at: datetime, received_at: datetime, content: dict[str, Any], cpr_hash: str, actor: Principal,
) -> uuid.UUID:
    """Hold a message whose CPR matches no known citizen until the municipality registers them."""
    parked_id = uuid.uuid4()
    uow.session.add(UnmatchedPartnerMessage(
        id=parked_id, kind=kind, message_id=message_id, sender_org=sender_org, sender_name=sender_name,
        occurred_at=occurred_at, received_at=received_at, content=content, cpr_hash=cpr_hash, status="open",
    ))
    uow.audit(actor, "partner_message.parked_unmatched", object_type="unmatched_partner_message", object_id=parked_id,
              detail={"kind": kind, "message_id": str(message_id)})
    return parked_id


async def match_parked(uow: UnitOfWork, citizen_id: uuid.UUID, cpr_hash: str) -> int:
    """Record the open parked messages for ``cpr_hash`` on the newly known citizen, in arrival order
    (the caller holds the CPR lock). Returns how many were recorded."""
    rows = list((await uow.session.execute(
        select(UnmatchedPartnerMessage)
        .where(UnmatchedPartnerMessage.cpr_hash == cpr_hash, UnmatchedPartnerMessage.status == "open")
        .order_by(UnmatchedPartnerMessage.received_at).with_for_update()
    )).scalars())
    if not rows:
        return 0
    record = (await uow.session.execute(
        select(HealthRecord).where(HealthRecord.citizen_id == citizen_id))).scalar_one_or_none()
    person = KnownPerson(citizen_id, record)
    for row in rows:
        if row.kind == MEDICATION_CHANGE:
            c = row.content
            change = DomainChange(FmkReference(c["fmk_reference"]), ChangeKind(c["change_kind"]),
                                  datetime.fromisoformat(c["changed_at"]), ChangeSource.PARTNER, row.sender_org, c["note"])
            await record_medication_change(uow, person, change, actor=None, recorded_by=f"partner:{row.sender_org}",
                                           message_id=row.message_id)
        else:
            await record_document(uow, person, kind=row.kind, message_id=row.message_id, sender_org=row.sender_org,
                                  sender_name=row.sender_name, occurred_at=row.occurred_at, received_at=row.received_at,
                                  health_check_id=None, content=row.content, actor=None)
        row.status, row.matched_citizen_id, row.resolved_at = "matched", citizen_id, hospital.now_utc()
        row.content = {}  # recorded on the citizen: the parked copy is not kept
        uow.audit(None, "unmatched_partner_message.matched", citizen_id=citizen_id,
                  object_type="unmatched_partner_message", object_id=row.id)
    return len(rows)
