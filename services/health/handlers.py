"""Health's event handlers."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from contracts.health import HealthRecordOpenedV1
from contracts.referrals import CitizenRegisteredV1, VisitationDecidedV1
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork
from services.health.models import HealthRecord, KnownCitizen

events = EventRouter()


@events.handles(CitizenRegisteredV1)
async def remember_citizen(event: CitizenRegisteredV1, meta: EventMeta, uow: UnitOfWork) -> None:
    await uow.session.execute(
        insert(KnownCitizen)
        .values(citizen_id=event.citizen_id, cpr_hash=event.cpr_hash, name=event.citizen_name)
        .on_conflict_do_update(index_elements=[KnownCitizen.citizen_id],
                               set_={"cpr_hash": event.cpr_hash, "name": event.citizen_name})
    )


@events.handles(VisitationDecidedV1)
async def open_health_record_when_place_granted(event: VisitationDecidedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    if event.decision != "granted" or not event.botilbud_id:
        return
    existing = (await uow.session.execute(
        select(HealthRecord).where(HealthRecord.citizen_id == event.citizen_id))).scalar_one_or_none()
    if existing is not None:
        return
    record = HealthRecord(id=uuid.uuid4(), citizen_id=event.citizen_id, botilbud_id=event.botilbud_id)
    uow.session.add(record)
    uow.emit(HealthRecordOpenedV1(citizen_id=event.citizen_id, health_record_id=record.id,
                                  botilbud_id=event.botilbud_id, opened_at=datetime.now(timezone.utc)))
    uow.audit(None, "health_record.open", citizen_id=event.citizen_id, object_type="health_record",
              object_id=record.id, detail={"cause": meta.event_id})
