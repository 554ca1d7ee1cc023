"""Health's event handlers and background jobs: plain functions over a unit of work."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from contracts.health import DepotVisitMissedV1, HealthRecordOpenedV1
from contracts.plans import ConsentGivenV1, ConsentRevokedV1, NetworkMemberAddedV1, NetworkMemberRemovedV1
from contracts.referrals import CitizenRegisteredV1, PlacementStartedV1, VisitationDecidedV1
from services.health import hospital, partner_messages
from services.health.domain import forensic as fx
from services.health.models import (
    ConsentRecord,
    DepotSchedule,
    DepotVisit,
    HealthRecord,
    KnownCitizen,
    MissedDepotVisit,
    NetworkMember,
    TimelineEntry,
)
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork

log = logging.getLogger(__name__)

events = EventRouter()


@events.handles(CitizenRegisteredV1)
async def remember_citizen(event: CitizenRegisteredV1, meta: EventMeta, uow: UnitOfWork) -> None:
    await hospital.lock_cpr(uow, event.cpr_hash)
    await uow.session.execute(
        insert(KnownCitizen)
        .values(citizen_id=event.citizen_id, cpr_hash=event.cpr_hash, name=event.citizen_name)
        .on_conflict_do_update(index_elements=[KnownCitizen.citizen_id],
                               set_={"cpr_hash": event.cpr_hash, "name": event.citizen_name})
    )
    # Hospital notices that arrived before the municipality knew the citizen now find their owner.
    matched, rejected = await hospital.match_parked(uow, event.citizen_id, event.cpr_hash, actor=None)
    if matched or rejected:
        log.info("matched parked hospital notices", extra={"matched": matched, "rejected": rejected, "event_id": meta.event_id})
    # So do the partners' documents and medication changes (accepted without telling them the CPR was unknown).
    recorded = await partner_messages.match_parked(uow, event.citizen_id, event.cpr_hash)
    if recorded:
        log.info("recorded parked partner messages", extra={"recorded": recorded, "event_id": meta.event_id})


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


@events.handles(PlacementStartedV1)
async def follow_the_citizen_to_their_botilbud(event: PlacementStartedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    """Moving in opens the record if the grant did not (e.g. a waitlisted place); moving to another
    botilbud moves the record, and the citizen chooses among the new botilbud's nurse consultants."""
    if not event.botilbud_id:
        return
    record = (await uow.session.execute(
        select(HealthRecord).where(HealthRecord.citizen_id == event.citizen_id).with_for_update())).scalar_one_or_none()
    if record is None:
        record = HealthRecord(id=uuid.uuid4(), citizen_id=event.citizen_id, botilbud_id=event.botilbud_id)
        uow.session.add(record)
        uow.emit(HealthRecordOpenedV1(citizen_id=event.citizen_id, health_record_id=record.id,
                                      botilbud_id=event.botilbud_id, opened_at=datetime.now(timezone.utc)))
        uow.audit(None, "health_record.open", citizen_id=event.citizen_id, object_type="health_record",
                  object_id=record.id, detail={"cause": meta.event_id})
    elif record.botilbud_id != event.botilbud_id:
        previous = record.botilbud_id
        record.botilbud_id, record.tovholder_sub = event.botilbud_id, None
        uow.audit(None, "health_record.move", citizen_id=event.citizen_id, object_type="health_record",
                  object_id=record.id, detail={"from": previous, "to": event.botilbud_id, "cause": meta.event_id})


@events.handles(NetworkMemberAddedV1)
async def network_member_added(event: NetworkMemberAddedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    """The citizen's network may read their health data (access rule), so health keeps a copy."""
    await uow.session.execute(
        insert(NetworkMember)
        .values(citizen_id=event.citizen_id, staff_sub=event.staff_id, role=str(event.role))
        .on_conflict_do_update(index_elements=["citizen_id", "staff_sub"], set_={"role": str(event.role)})
    )


@events.handles(NetworkMemberRemovedV1)
async def network_member_removed(event: NetworkMemberRemovedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    await uow.session.execute(
        delete(NetworkMember).where(NetworkMember.citizen_id == event.citizen_id, NetworkMember.staff_sub == event.staff_id)
    )


@events.handles(ConsentGivenV1)
async def consent_given(event: ConsentGivenV1, meta: EventMeta, uow: UnitOfWork) -> None:
    """What the citizen consents to share decides what health passes on to partners."""
    values = dict(citizen_id=event.citizen_id, recipient_kind=event.recipient_kind, recipient_id=event.recipient_id,
                  category=event.category, given_at=event.given_at)
    await uow.session.execute(
        insert(ConsentRecord).values(consent_id=event.consent_id, revoked_at=None, **values)
        .on_conflict_do_update(index_elements=[ConsentRecord.consent_id], set_=values)
    )


@events.handles(ConsentRevokedV1)
async def consent_revoked(event: ConsentRevokedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    values = dict(citizen_id=event.citizen_id, recipient_kind=event.recipient_kind, recipient_id=event.recipient_id,
                  category=event.category, given_at=event.given_at, revoked_at=event.revoked_at)
    # Upsert: the revocation may arrive before the grant (another partition), and must win.
    await uow.session.execute(
        insert(ConsentRecord).values(consent_id=event.consent_id, **values)
        .on_conflict_do_update(index_elements=[ConsentRecord.consent_id], set_={"revoked_at": event.revoked_at})
    )


# --------------------------------------------------------------------------- depot visits


DEPOT_SCAN_INTERVAL_S = float(os.environ.get("TOVHOLDER_HEALTH_DEPOT_SCAN_INTERVAL_S", "300"))
DEPOT_LOOKBACK = timedelta(days=14)


async def detect_missed_depot_visits(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Raise one alert per missed depot-medication slot (idempotent by the slot's unique key)."""
    now = now or datetime.now(timezone.utc)
    schedules = list((await uow.session.execute(select(DepotSchedule).with_for_update(skip_locked=True))).scalars())
    raised = 0
    for schedule in schedules:
        since_moment = (schedule.checked_until or datetime.combine(schedule.starts_on, datetime.min.time(), tzinfo=timezone.utc))
        since = (since_moment - timedelta(days=1)).astimezone(fx.DANISH_TIME).date()
        since = max(since, (now - DEPOT_LOOKBACK).astimezone(fx.DANISH_TIME).date(), schedule.starts_on)
        rules = fx.DepotSchedule(schedule.weekday, schedule.at, schedule.starts_on, schedule.ends_on,
                                 timedelta(minutes=schedule.grace_minutes), schedule.interval_weeks)
        visits = [fx.DepotVisit(v.visited_at, fx.VisitOutcome(v.outcome)) for v in (await uow.session.execute(
            select(DepotVisit).where(DepotVisit.schedule_id == schedule.id,
                                     DepotVisit.visited_at >= datetime.combine(since, datetime.min.time(), tzinfo=fx.DANISH_TIME) - timedelta(days=1))
        )).scalars()]
        notices = await hospital.notice_records(uow, schedule.citizen_id)
        missed = fx.missed_visits(rules, visits, now=now, since=since, notices=notices)
        record = (await uow.session.execute(select(HealthRecord).where(
            HealthRecord.citizen_id == schedule.citizen_id))).scalar_one_or_none()
        if record is not None and record.deceased_at is not None:
            missed = []
        for miss in missed:
            inserted = (await uow.session.execute(
                insert(MissedDepotVisit)
                .values(id=uuid.uuid4(), schedule_id=schedule.id, citizen_id=schedule.citizen_id,
                        scheduled_for=miss.scheduled_for, reason=miss.reason.value, detected_at=now)
                .on_conflict_do_nothing()
                .returning(MissedDepotVisit.id)
            )).first()
            if inserted is None:
                continue
            raised += 1
            uow.emit(DepotVisitMissedV1(
                citizen_id=schedule.citizen_id, schedule_id=schedule.id, scheduled_for=miss.scheduled_for,
                reason=miss.reason.value, tovholder_sub=record.tovholder_sub if record else None,
                botilbud_id=record.botilbud_id if record else None,
            ))
            uow.session.add(TimelineEntry(
                citizen_id=schedule.citizen_id, kind="depot-visit", counterpart="forensic-psychiatry",
                org=schedule.forensic_team_org, who=None,
                what=f"Depot-medication visit missed ({miss.reason.value})", occurred_at=miss.scheduled_for,
                recorded_by="system", object_type="missed_depot_visit", object_id=str(inserted[0]),
            ))
            uow.audit(None, "depot_visit.missed", citizen_id=schedule.citizen_id, object_type="depot_schedule",
                      object_id=schedule.id, detail={"scheduled_for": miss.scheduled_for.isoformat()})
        schedule.checked_until = now
    await uow.commit()
    return raised


async def depot_watch(ctx) -> None:
    """Background job: look for missed depot visits every few minutes."""
    while True:
        async with ctx.uow() as uow:
            await detect_missed_depot_visits(uow)
        await asyncio.sleep(DEPOT_SCAN_INTERVAL_S)
