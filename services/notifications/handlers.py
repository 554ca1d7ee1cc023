"""Notifications' event handlers: every event from referrals, plans and health goes through one
handler that (1) updates the read models (citizen, network, consents, timeline, visitation board),
(2) applies the task rules (``domain/rules.py``) and (3) queues deliveries for partner subscriptions.
All in the kit's unit of work, so the inbox entry, the tasks, their history, the outbox events and
the queued deliveries commit together."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from contracts.base import EVENT_REGISTRY, BaseEvent, EventBody
from contracts.notifications import TaskCancelledV1, TaskClaimedV1, TaskCompletedV1, TaskCreatedV1, TaskEscalatedV1
from services.notifications import models as m
from services.notifications import repository as repo
from services.notifications.main import NotificationsConfig
from services.notifications.domain import consent as consent_rules
from services.notifications.domain import tasks as d
from services.notifications.domain.delivery import cloudevent_body
from services.notifications.domain.rules import IncomingEvent, apply_actions, evaluate
from services.notifications.domain.timeline import case_update, timeline_entry
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork

CONSUMED_PRODUCERS = ("referrals", "plans", "health")


def consumed_models() -> list[type[BaseEvent]]:
    return [model for model in EVENT_REGISTRY.values() if model.topic.producer in CONSUMED_PRODUCERS]


# ---------------------------------------------------------------- events about tasks


def emit_task_events(uow: UnitOfWork, before: d.Task | None, after: d.Task) -> None:
    """The events a task change causes (created / claimed / completed / cancelled / escalated)."""
    if after.citizen_id is None:
        return  # task events are about a citizen; work about no known citizen stays in this service
    if before is None:
        uow.emit(TaskCreatedV1(
            citizen_id=after.citizen_id, task_id=after.task_id, kind=after.kind.value,
            source_event_id=after.source_event_id, created_at=after.created_at, title=after.title,
            priority=after.priority.value, due_at=after.due_at, owner=after.owner_sub,
            pool_role=after.pool.role.value if after.pool else None, botilbud_id=after.botilbud_id,
        ))
        return
    last = after.history[-1] if after.history else None
    for entry in after.history:
        if entry.action == "claimed":
            uow.emit(TaskClaimedV1(citizen_id=after.citizen_id, task_id=after.task_id, kind=after.kind.value,
                                   claimed_by=entry.actor, claimed_at=entry.at))
        elif entry.action == "escalated" and after.pool is not None:
            uow.emit(TaskEscalatedV1(citizen_id=after.citizen_id, task_id=after.task_id, kind=after.kind.value,
                                     to_role=after.pool.role.value, botilbud_id=after.pool.botilbud_id,
                                     escalated_at=entry.at))
    if before.status is not after.status and last is not None:
        if after.status is d.TaskStatus.DONE:
            uow.emit(TaskCompletedV1(citizen_id=after.citizen_id, task_id=after.task_id, kind=after.kind.value,
                                     completed_by=last.actor, completed_at=last.at))
        elif after.status is d.TaskStatus.CANCELLED:
            uow.emit(TaskCancelledV1(citizen_id=after.citizen_id, task_id=after.task_id, kind=after.kind.value,
                                     reason=last.note or "annulleret", cancelled_at=last.at))


# ---------------------------------------------------------------- read models


async def _citizen(uow: UnitOfWork, citizen_id: uuid.UUID) -> m.Citizen:
    # One citizen's events arrive in order on one partition, so no row lock is needed here.
    citizen = await uow.session.get(m.Citizen, citizen_id)
    if citizen is None:
        citizen = m.Citizen(id=citizen_id)
        uow.session.add(citizen)
    return citizen


def _update_citizen(citizen: m.Citizen, event_type: str, data: dict[str, Any], at: datetime) -> None:
    name = event_type.split(".")[2] if event_type.count(".") >= 3 else ""
    if name == "citizen-registered" and data.get("citizen_name"):
        citizen.name = data["citizen_name"]
    botilbud = data.get("botilbud_id")
    authoritative = name in ("placement-started", "plan-opened", "health-record-opened", "tovholder-chosen") or (
        name == "visitation-decided" and data.get("decision") == "granted"
    )
    # Placement and plan events say where the citizen lives; other events only fill a gap.
    if botilbud and (authoritative or citizen.botilbud_id is None):
        citizen.botilbud_id = botilbud
    if name == "tovholder-chosen":
        citizen.tovholder_sub = data.get("nurse_consultant_sub")
    if name in ("hospital-notice-registered", "hospital-notice-corrected") and data.get("tovholder_sub"):
        citizen.tovholder_sub = data["tovholder_sub"]
    if name in ("hospital-notice-registered", "hospital-notice-corrected"):
        if data.get("kind") == "death":
            citizen.deceased_at = data.get("occurred_at") or at
        elif name == "hospital-notice-corrected":
            citizen.deceased_at = None  # a death notice corrected into something else
    if name == "placement-ended" and data.get("cause") == "died":
        citizen.deceased_at = citizen.deceased_at or at


async def _update_network_and_consent(uow: UnitOfWork, event_type: str, citizen_id: uuid.UUID, data: dict[str, Any]) -> None:
    name = event_type.split(".")[2] if event_type.count(".") >= 3 else ""
    session = uow.session
    if name == "network-member-added":
        await session.execute(
            insert(m.NetworkMember)
            .values(citizen_id=citizen_id, staff_id=data["staff_id"], role=data["role"], added_at=data["added_at"])
            .on_conflict_do_update(index_elements=["citizen_id", "staff_id"],
                                   set_={"role": data["role"], "added_at": data["added_at"]})
        )
    elif name == "network-member-removed":
        member = await session.get(m.NetworkMember, (citizen_id, data["staff_id"]))
        if member is not None:
            await session.delete(member)
    elif name in ("consent-given", "consent-revoked"):
        row = await session.get(m.Consent, str(data["consent_id"]), with_for_update=True)
        existing = (
            consent_rules.ConsentRecord(row.id, row.citizen_id, row.recipient_kind, row.recipient_id, row.category,
                                        row.given_at, row.revoked_at)
            if row is not None else None
        )
        common = dict(consent_id=str(data["consent_id"]), citizen_id=citizen_id, recipient_kind=data["recipient_kind"],
                      recipient_id=data["recipient_id"], category=data["category"], given_at=data["given_at"])
        if name == "consent-given":
            record = consent_rules.record_given(existing, **common)
        else:
            record = consent_rules.record_revoked(existing, **common, revoked_at=data["revoked_at"])
        if row is None:
            row = m.Consent(id=record.consent_id)
            session.add(row)
        row.citizen_id, row.recipient_kind, row.recipient_id = record.citizen_id, record.recipient_kind, record.recipient_id
        row.category, row.given_at, row.revoked_at = record.category, record.given_at, record.revoked_at


async def _record_timeline_and_board(uow: UnitOfWork, meta: EventMeta, citizen_id: uuid.UUID, data: dict[str, Any],
                                     at: datetime) -> None:
    entry = timeline_entry(event_id=meta.event_id, event_type=meta.event_type, citizen_id=citizen_id, time=at, data=data)
    await uow.session.execute(
        insert(m.TimelineEntry)
        .values(event_id=entry.event_id, citizen_id=entry.citizen_id, event_type=entry.event_type,
                service=entry.service, occurred_at=entry.occurred_at, title=entry.title[:300])
        .on_conflict_do_nothing()
    )
    update = case_update(meta.event_type, data, at)
    if update is not None:
        values = dict(referral_id=update.referral_id, citizen_id=citizen_id, status=update.status.value,
                      step=update.step, botilbud_id=update.botilbud_id, legal_basis=update.legal_basis,
                      updated_at=update.at)
        keep_known = {k: v for k, v in values.items() if v is not None and k != "referral_id"}
        await uow.session.execute(
            insert(m.VisitationCase).values(**values)
            .on_conflict_do_update(index_elements=["referral_id"], set_=keep_known)
        )


# ---------------------------------------------------------------- tasks


async def apply_task_rules(uow: UnitOfWork, incoming: IncomingEvent, *, now: datetime,
                           config: NotificationsConfig) -> list[d.Task]:
    actions = evaluate(incoming)
    if not actions:
        return []
    if incoming.citizen_id is not None:
        rows = await repo.citizen_task_rows(uow.session, incoming.citizen_id)
    else:
        keys = {str(link) for a in actions for link in (getattr(a, "key", None), getattr(a, "link", None),
                                                       getattr(a, "once_per", None)) if link is not None}
        rows = [row for key in sorted(keys) for row in await repo.unattributed_task_rows(uow.session, key)]
    by_id = {row.id: row for row in rows}
    before = {row.id: repo.to_domain(row) for row in rows}
    applied = apply_actions(actions, incoming, list(before.values()), now=now, new_task_id=uuid.uuid4)
    policy = config.escalation
    for task in applied.created:
        repo.save(uow.session, task, policy)
        emit_task_events(uow, None, task)
    for task in applied.changed:
        repo.save(uow.session, task, policy, row=by_id[task.task_id])
        emit_task_events(uow, before[task.task_id], task)
    if applied.touched:
        uow.audit(None, "task.rules", citizen_id=incoming.citizen_id, object_type="event", object_id=incoming.event_id,
                  detail={"event_type": incoming.event_type, "created": len(applied.created), "changed": len(applied.changed)})
    return applied.touched


# ---------------------------------------------------------------- partner deliveries


async def queue_deliveries(uow: UnitOfWork, meta: EventMeta, body: EventBody, at: datetime) -> int:
    """One pending delivery per active subscription that wants this event type; the consent check
    happens at every attempt (a revocation may come in between)."""
    if consent_rules.category_of(meta.event_type) is None:
        return 0
    subscriptions = (await uow.session.execute(
        select(m.Subscription.id).where(m.Subscription.active.is_(True),
                                        m.Subscription.event_types.contains([meta.event_type]))
    )).scalars().all()
    if not subscriptions:
        return 0
    payload = cloudevent_body(event_id=meta.event_id, source=meta.source, event_type=meta.event_type, time=at,
                              subject=str(body.citizen_id), data=body.model_dump(mode="json")).decode()
    now = datetime.now(timezone.utc)
    for subscription_id in subscriptions:
        await uow.session.execute(
            insert(m.Delivery)
            .values(id=uuid.uuid4(), subscription_id=subscription_id, event_id=meta.event_id, event_type=meta.event_type,
                    citizen_id=body.citizen_id, body=payload, status="pending", attempts=0, next_attempt_at=now)
            .on_conflict_do_nothing(constraint="uq_delivery_subscription_event")
        )
    return len(subscriptions)


# ---------------------------------------------------------------- the handler


async def on_event(event: BaseEvent, meta: EventMeta, uow: UnitOfWork, *, config: NotificationsConfig) -> None:
    now = datetime.now(timezone.utc)
    at = meta.time or now
    data = event.model_dump()
    if not isinstance(event, EventBody):
        # About no known citizen (e.g. a parked hospital notice): only the task rules apply.
        await apply_task_rules(uow, IncomingEvent.from_body(event_id=meta.event_id, time=at, body=event), now=now,
                               config=config)
        return
    citizen = await _citizen(uow, event.citizen_id)
    _update_citizen(citizen, meta.event_type, data, at)
    await _update_network_and_consent(uow, meta.event_type, event.citizen_id, data)
    await _record_timeline_and_board(uow, meta, event.citizen_id, data, at)
    incoming = IncomingEvent.from_body(event_id=meta.event_id, time=at, body=event, citizen_botilbud_id=citizen.botilbud_id)
    await apply_task_rules(uow, incoming, now=now, config=config)
    await queue_deliveries(uow, meta, event, at)


def build_events(config: NotificationsConfig) -> EventRouter:
    """The service's event handlers, bound to the configuration the composition root was given."""
    events = EventRouter()

    async def handle(event: BaseEvent, meta: EventMeta, uow: UnitOfWork) -> None:
        await on_event(event, meta, uow, config=config)

    events.handles(*consumed_models())(handle)
    return events
