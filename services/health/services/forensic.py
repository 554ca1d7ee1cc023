"""Forensic psychiatry: treatment orders, depot-medication schedules and visits, the coercion log,
and the background detection of missed depot visits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from contracts.health import CoercionConsideredV1, DepotVisitMissedV1, TreatmentOrderRecordedV1
from services.health import repository as repo
from services.health import schemas as s
from services.health.domain import forensic as fx
from services.health.domain.access import Action
from services.health.domain.tovholder import ContactKind
from services.health.models import CoercionLogEntry, DepotSchedule, DepotVisit, TimelineEntry, TreatmentOrder
from services.health.services.common import _aware, authorize, now_utc
from tovholder.auth import Principal
from tovholder.errors import DomainError, NotFound
from tovholder.uow import UnitOfWork

# ==================================================================== forensic psychiatry


async def record_treatment_order(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                 body: s.TreatmentOrderBody) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id, lock=True)
    order = fx.validate_treatment_order(fx.TreatmentOrder(
        body.court.strip(), body.judgment_date, tuple(c.strip() for c in body.conditions), body.valid_until, body.forensic_team_org))
    for old in await repo.current_treatment_orders(uow, citizen_id):
        old.current = False  # kept as history
    row = TreatmentOrder(id=uuid.uuid4(), citizen_id=citizen_id, court=order.court, judgment_date=order.judgment_date,
                         valid_until=order.valid_until, conditions=list(order.conditions),
                         forensic_team_org=order.forensic_team_org, current=True, recorded_by=user.sub)
    repo.add(uow, row)
    uow.emit(TreatmentOrderRecordedV1(citizen_id=citizen_id, treatment_order_id=row.id, judgment_date=row.judgment_date,
                                      valid_until=row.valid_until, conditions_count=len(row.conditions)))
    uow.audit(user, "treatment_order.record", citizen_id=citizen_id, object_type="treatment_order", object_id=row.id)
    await uow.commit()
    return {"treatment_order_id": str(row.id), "conditions": row.conditions}


async def create_depot_schedule(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                body: s.DepotScheduleBody) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id)
    fx.DepotSchedule(body.weekday, body.at, body.starts_on, body.ends_on, timedelta(minutes=body.grace_minutes),
         body.interval_weeks)
    row = DepotSchedule(id=uuid.uuid4(), citizen_id=citizen_id, weekday=body.weekday, at=body.at, starts_on=body.starts_on,
                        ends_on=body.ends_on, interval_weeks=body.interval_weeks, grace_minutes=body.grace_minutes,
                        forensic_team_org=body.forensic_team_org)
    repo.add(uow, row)
    uow.audit(user, "depot_schedule.create", citizen_id=citizen_id, object_type="depot_schedule", object_id=row.id)
    await uow.commit()
    return {"schedule_id": str(row.id)}


async def record_depot_visit(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                             body: s.DepotVisitBody) -> dict[str, Any]:
    await authorize(uow, user, Action.WRITE, citizen_id)
    schedule = await repo.depot_schedule(uow, body.schedule_id)
    if schedule is None or schedule.citizen_id != citizen_id:
        raise NotFound("Borgeren har ingen sådan depotplan.")
    visited_at = _aware(body.visited_at, "visited_at")
    if visited_at > now_utc() + timedelta(minutes=5):
        raise DomainError("besøget ligger i fremtiden; registrér det, når det har fundet sted")
    row = DepotVisit(id=uuid.uuid4(), schedule_id=schedule.id, citizen_id=citizen_id, visited_at=visited_at,
                     outcome=body.outcome, recorded_by=user.sub)
    repo.add(uow, row)
    repo.add(uow, TimelineEntry(citizen_id=citizen_id, kind=ContactKind.DEPOT_VISIT.value, counterpart="forensic-psychiatry",
                                org=schedule.forensic_team_org, who=None, what=f"Besøg med depotmedicin: {fx.VISIT_OUTCOME_DA.get(body.outcome, body.outcome)}",
                                occurred_at=visited_at, recorded_by=user.sub, object_type="depot_visit", object_id=str(row.id)))
    uow.audit(user, "depot_visit.record", citizen_id=citizen_id, object_type="depot_visit", object_id=row.id)
    await uow.commit()
    return {"visit_id": str(row.id)}


async def record_coercion_considered(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                     body: s.CoercionBody) -> dict[str, Any]:
    record = await authorize(uow, user, Action.WRITE, citizen_id)
    has_order = await repo.has_current_treatment_order(uow, citizen_id)
    entry = fx.validate_coercion_entry(fx.CoercionConsidered(
        _aware(body.considered_at, "considered_at"), fx.CoercionMeasure(body.measure), body.situation,
        body.least_intrusive_alternative, fx.CoercionDecision(body.decision), body.decided_by_sub or user.sub,
        body.decided_by_role or user.role, tuple(body.participants), body.citizen_informed),
        recorded_at=now_utc() + timedelta(minutes=1), has_treatment_order=has_order)
    row = CoercionLogEntry(id=uuid.uuid4(), citizen_id=citizen_id, considered_at=entry.considered_at, measure=entry.measure.value,
                           situation=entry.situation, least_intrusive_alternative=entry.least_intrusive_alternative,
                           decision=entry.decision.value, decided_by_sub=entry.decided_by_sub, decided_by_role=entry.decided_by_role,
                           participants=list(entry.participants), citizen_informed=entry.citizen_informed, recorded_by=user.sub)
    repo.add(uow, row)
    uow.emit(CoercionConsideredV1(citizen_id=citizen_id, entry_id=row.id, measure=row.measure, decision=row.decision,
                                  considered_at=row.considered_at, decided_by_sub=row.decided_by_sub,
                                  tovholder_sub=record.tovholder_sub, botilbud_id=record.botilbud_id))
    uow.audit(user, "coercion_log.record", citizen_id=citizen_id, object_type="coercion_log_entry", object_id=row.id)
    await uow.commit()
    return {"entry_id": str(row.id)}


async def read_forensic(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> dict[str, Any]:
    await authorize(uow, user, Action.READ, citizen_id)
    orders = await repo.treatment_orders(uow, citizen_id)
    schedules = await repo.depot_schedules(uow, citizen_id)
    visits = await repo.depot_visits(uow, citizen_id)
    missed = await repo.missed_depot_visits(uow, citizen_id)
    log = await repo.coercion_log(uow, citizen_id)
    uow.audit(user, "forensic.read", citizen_id=citizen_id, object_type="forensic")
    await uow.commit()
    return {
        "treatment_orders": [{"treatment_order_id": str(o.id), "court": o.court, "judgment_date": o.judgment_date,
                              "valid_until": o.valid_until, "conditions": o.conditions, "current": o.current,
                              "forensic_team_org": o.forensic_team_org} for o in orders],
        "depot_schedules": [{"schedule_id": str(x.id), "weekday": x.weekday, "at": x.at, "starts_on": x.starts_on,
                             "ends_on": x.ends_on, "interval_weeks": x.interval_weeks, "grace_minutes": x.grace_minutes}
                            for x in schedules],
        "depot_visits": [{"visit_id": str(v.id), "schedule_id": str(v.schedule_id), "visited_at": v.visited_at,
                          "outcome": v.outcome} for v in visits],
        "missed_depot_visits": [{"schedule_id": str(m.schedule_id), "scheduled_for": m.scheduled_for, "reason": m.reason}
                                for m in missed],
        "coercion_log": [{"entry_id": str(e.id), "considered_at": e.considered_at, "measure": e.measure,
                          "situation": e.situation, "least_intrusive_alternative": e.least_intrusive_alternative,
                          "decision": e.decision, "decided_by_sub": e.decided_by_sub, "decided_by_role": e.decided_by_role,
                          "participants": e.participants, "citizen_informed": e.citizen_informed} for e in log],
    }


DEPOT_LOOKBACK = timedelta(days=14)


async def detect_missed_depot_visits(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Raise one alert per missed depot-medication slot (idempotent by the slot's unique key)."""
    now = now or now_utc()
    raised = 0
    for schedule in await repo.all_depot_schedules_to_scan(uow):
        since_moment = (schedule.checked_until or datetime.combine(schedule.starts_on, datetime.min.time(), tzinfo=timezone.utc))
        since = (since_moment - timedelta(days=1)).astimezone(fx.DANISH_TIME).date()
        since = max(since, (now - DEPOT_LOOKBACK).astimezone(fx.DANISH_TIME).date(), schedule.starts_on)
        rules = repo.depot_rules(schedule)
        visits = await repo.depot_visits_since(
            uow, schedule.id, datetime.combine(since, datetime.min.time(), tzinfo=fx.DANISH_TIME) - timedelta(days=1))
        notices = await repo.notice_records(uow, schedule.citizen_id)
        missed = fx.missed_visits(rules, visits, now=now, since=since, notices=notices)
        record = await repo.health_record(uow, schedule.citizen_id)
        if record is not None and record.deceased_at is not None:
            missed = []
        for miss in missed:
            missed_id = await repo.insert_missed_depot_visit(uow, schedule=schedule, scheduled_for=miss.scheduled_for,
                                                             reason=miss.reason.value, detected_at=now)
            if missed_id is None:
                continue
            raised += 1
            uow.emit(DepotVisitMissedV1(
                citizen_id=schedule.citizen_id, schedule_id=schedule.id, scheduled_for=miss.scheduled_for,
                reason=miss.reason.value, tovholder_sub=record.tovholder_sub if record else None,
                botilbud_id=record.botilbud_id if record else None,
            ))
            repo.add(uow, TimelineEntry(
                citizen_id=schedule.citizen_id, kind="depot-visit", counterpart="forensic-psychiatry",
                org=schedule.forensic_team_org, who=None,
                what=f"Depotmedicin ikke givet ({fx.MISS_REASON_DA.get(miss.reason.value, miss.reason.value)})", occurred_at=miss.scheduled_for,
                recorded_by="system", object_type="missed_depot_visit", object_id=str(missed_id),
            ))
            uow.audit(None, "depot_visit.missed", citizen_id=schedule.citizen_id, object_type="depot_schedule",
                      object_id=schedule.id, detail={"scheduled_for": miss.scheduled_for.isoformat()})
        schedule.checked_until = now
    await uow.commit()
    return raised
