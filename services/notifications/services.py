"""Notifications' use cases, one async function each, called by the JSON API (``api.py``), the event
handlers (``handlers.py``), the background jobs (``jobs.py``) and the staff pages (``pages.py``):

- staff: read the work queue, one task with its history, change a task, a citizen's timeline and
  tasks, the visitation board, notices;
- events: take in an event from referrals, plans or health (read models → task rules → queued
  partner deliveries);
- scheduler: reminders, escalation, overdue flags;
- partners: event types, subscribe, list and stop subscriptions, the delivery log, resend;
- delivery: lease due deliveries, the consent gate, the signed HTTP call, record the attempt.

Each authorises, loads through ``repository.py``, asks the domain, saves, emits, audits and commits.
No SQL here."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from contracts.base import EVENT_REGISTRY, BaseEvent, EventBody
from contracts.notifications import TaskCancelledV1, TaskClaimedV1, TaskCompletedV1, TaskCreatedV1, TaskEscalatedV1
from services.notifications import models as m
from services.notifications import repository as repo
from services.notifications import webhooks
from services.notifications.domain import consent as consent_rules
from services.notifications.domain import delivery as dlv
from services.notifications.domain import tasks as d
from services.notifications.domain.access import (
    HEALTH_SERVICE,
    may_see_citizen,
    may_see_health_copy,
    may_see_task,
    may_see_task_on_timeline,
    work_queue_scope,
)
from services.notifications.domain.errors import InvalidInput, TransitionNotAllowed
from services.notifications.domain.queue import Cursor, QueueFilter
from services.notifications.domain.rules import IncomingEvent, apply_actions, evaluate, tasks_concerned
from services.notifications.domain.scheduling import sweep
from services.notifications.domain.timeline import BOARD_COLUMNS_DA, SERVICE_LABELS_DA, case_update, timeline_entry
from services.notifications.main import NotificationsConfig
from services.notifications.schemas import SubscriptionMessage
from tovholder import clock
from tovholder.access import CitizenCircle, actor_from, authorize
from tovholder.auth import Principal
from tovholder.consent import refused
from tovholder.cpr import CITIZEN_REFERENCE_SYSTEM, CprVault, normalize_cpr
from tovholder.errors import DomainError, Forbidden, NotFound, NotVisible
from tovholder.fhir import FHIR_EVENT_TYPES, FHIR_JSON, event_as_fhir
from tovholder.messaging import EventMeta
from tovholder.receipts import FatalMessage, parse_body, receipt_body, receipt_response, receive_message
from tovholder.secretbox import SecretBox
from tovholder.uow import UnitOfWork

# The services whose events notifications takes in (and may pass on to partners).
CONSUMED_PRODUCERS = ("referrals", "plans", "health")

if TYPE_CHECKING:
    from fastapi.responses import JSONResponse


def actor_of(principal: Principal) -> d.Actor:
    return actor_from(principal)


now_utc = clock.now


def task_json(row: m.Task, now: datetime | None = None) -> dict[str, Any]:
    now = now or now_utc()
    kind_label = d.KIND_LABELS_DA.get(d.TaskKind(row.kind), row.kind) if row.kind in d.TaskKind._value2member_map_ else row.kind
    active = row.status in repo.ACTIVE
    return {
        "task_id": str(row.id),
        "citizen_id": str(row.citizen_id) if row.citizen_id else None,
        "title": row.title,
        "kind": row.kind,
        "kind_label": kind_label,
        "status": row.status,
        "business_status": row.business_status,
        "priority": row.priority,
        "due_at": row.due_at,
        "overdue": bool(active and row.due_at is not None and row.due_at < now),
        "owner": row.owner,
        "pool": {"role": row.pool_role, "botilbud": row.pool_botilbud} if row.pool_role else None,
        "botilbud_id": row.botilbud_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "source_event_id": row.source_event_id,
        "source_event_type": row.source_event_type,
        "links": row.links or [],
        "checklist": row.checklist or [],
        "description": row.description,
        "escalated_at": row.escalated_at,
    }


# ---------------------------------------------------------------- work queue


@dataclass
class QueuePage:
    tasks: list[dict[str, Any]]
    next_cursor: str | None


async def read_work_queue(uow: UnitOfWork, user: Principal, queue_filter: QueueFilter) -> QueuePage:
    now = now_utc()
    rows, more = await repo.work_queue(uow.session, work_queue_scope(actor_of(user)), queue_filter, now)
    next_cursor = Cursor(rows[-1].sort_at, rows[-1].id).encode() if more and rows else None
    shown = {r.citizen_id: r.id for r in rows if r.citizen_id}
    names = await repo.citizen_names(uow.session, set(shown))
    if shown:
        # One audit entry per citizen whose tasks were shown, so it is in that citizen's Min log.
        await uow.audit_many(user, "work-queue.read", shown.items(), object_type="task")
        await uow.commit()
    now = now_utc()
    tasks = [task_json(row, now) for row in rows]
    for task in tasks:
        task["citizen_name"] = names.get(task["citizen_id"]) if task["citizen_id"] else None
    return QueuePage(tasks, next_cursor)


def queue_fingerprint(rows: list[m.Task]) -> str:
    """Changes whenever a task of the page is added, removed or changed (status, owner, due time, …)."""
    import hashlib

    state = [(str(r.id), r.status, r.owner, r.business_status, r.priority, r.due_at and r.due_at.isoformat(),
              r.updated_at and r.updated_at.isoformat()) for r in rows]
    return hashlib.sha256(repr(state).encode()).hexdigest()[:20]


async def watch_work_queue(uows, user: Principal, queue_filter: QueueFilter, *, interval_s: float, max_s: float):
    """The caller's queue as a stream of changes: the first answer at once, then one whenever the page
    the same filters would show changes; it ends after ``max_s`` (the client reconnects, and its token
    is checked again). Scoped exactly like ``read_work_queue``; it sends only a fingerprint and a count,
    no task or citizen data, so it writes no audit entry (the page the client then reads does)."""
    import asyncio

    scope = work_queue_scope(actor_of(user))
    deadline = time.monotonic() + max_s
    last = None
    while time.monotonic() < deadline:
        async with uows() as uow:
            rows, more = await repo.work_queue(uow.session, scope, queue_filter, now_utc())
            fingerprint = queue_fingerprint(rows)
        if fingerprint != last:
            last = fingerprint
            yield {"fingerprint": fingerprint, "count": len(rows), "more": more}
        await asyncio.sleep(interval_s)


def task_kinds() -> list[dict[str, str]]:
    return [{"kind": kind.value, "label": d.KIND_LABELS_DA[kind]} for kind in d.TaskKind]


async def queue_overview(uow: UnitOfWork, user: Principal, queue_filter: QueueFilter, *,
                         notices: int = 5) -> dict[str, Any]:
    """The staff page "my work queue": the tasks (with the citizens' names), the next page, the newest notices."""
    page = await read_work_queue(uow, user, queue_filter)  # the tasks carry the citizens' names
    latest = await my_notices(uow, user, None, limit=notices)
    return {"tasks": page.tasks, "next_cursor": page.next_cursor, "notices": latest}


# ---------------------------------------------------------------- one task


async def visible_task(uow: UnitOfWork, user: Principal, task_id: uuid.UUID, *, lock: bool = False) -> tuple[m.Task, d.Task]:
    row = await repo.get_task(uow.session, task_id, lock=lock)
    if row is None:
        raise NotFound("Opgaven findes ikke.")
    task = repo.to_domain(row)
    network = await repo.network_citizens(uow.session, user.sub, [row.citizen_id] if row.citizen_id else [])
    # The unknown task's answer: do not reveal tasks a person may not see (the kit audits the refusal).
    authorize(may_see_task(task, actor_of(user), network), "Opgaven findes ikke.", hide=True,
              not_found="Opgaven findes ikke.", citizen_id=row.citizen_id, object_type="task", object_id=row.id)
    return row, task


async def task_with_history(uow: UnitOfWork, user: Principal, task_id: uuid.UUID) -> dict[str, Any]:
    row, _ = await visible_task(uow, user, task_id)
    changes = await repo.task_changes(uow.session, row.id)
    uow.audit(user, "task.read", citizen_id=row.citizen_id, object_type="task", object_id=row.id)
    await uow.commit()
    body = task_json(row)
    body["history"] = [
        {"at": c.at, "by": c.by, "change": c.change, "note": c.note, "changes": c.changes or []} for c in changes
    ]
    return body


TRANSITIONS = {
    "claim": lambda task, actor, now, note: d.claim(task, actor, now),
    "start": lambda task, actor, now, note: d.start(task, actor, now),
    "release": lambda task, actor, now, note: d.release(task, actor, now),
    "complete": lambda task, actor, now, note: d.complete(task, actor, now, note=note),
    "business-status": lambda task, actor, now, note: d.set_business_status(task, actor, now, note),
}


async def change_task(uow: UnitOfWork, user: Principal, task_id: uuid.UUID, action: str, *,
                      config: NotificationsConfig, note: str | None = None) -> dict[str, Any]:
    """Claim, start, release, complete or set the business status; the task as it is now."""
    row, task = await visible_task(uow, user, task_id, lock=True)
    changed = TRANSITIONS[action](task, actor_of(user), now_utc(), note)  # a broken rule is the kit's error
    if changed is not task:
        repo.save(uow, changed, config.escalation, row=row)
        emit_task_events(uow, task, changed)
    uow.audit(user, f"task.{action}", citizen_id=row.citizen_id, object_type="task", object_id=row.id)
    await uow.commit()
    return task_json(row)


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


# ---------------------------------------------------------------- the citizen list

CITIZEN_LIST_MAX = 200


async def list_citizens(uow: UnitOfWork, user: Principal, *, q: str | None, mine: bool, limit: int,
                        offset: int, serving: str | None = None) -> list[dict[str, Any]]:
    """The citizens the caller may see (the same rule as one citizen's timeline: staff at the citizen's
    botilbud, the network, visitation of the citizen's municipality and admin), by name, with their open
    and overdue tasks. ``mine``:
    the citizens whose network the caller is in (a nurse consultant: also those who chose them as
    tovholder)."""
    role = user.role
    if role not in ("visitation", "coordinator", "nurse-consultant", "admin"):
        raise Forbidden("Borgerlisten er for medarbejdere.")
    everyone = role in ("visitation", "admin")
    rows = await repo.list_citizens(
        uow.session, botilbud_id=user.botilbud, staff_id=user.sub, everyone=everyone,
        tovholder_sub=user.sub if role == "nurse-consultant" else None, only_network=mine and not everyone,
        name_like=(q or "").strip() or None, now=now_utc(), limit=limit, offset=offset,
        scope=actor_from(user, serving=serving).scope if role == "visitation" else None)
    if rows:
        # One entry per citizen listed, so each sees it in their Min log.
        await uow.audit_many(user, "citizens.list", [(c.id, c.id) for c, _, _ in rows], object_type="citizen")
        await uow.commit()
    return [{"citizen_id": str(c.id), "name": c.name, "botilbud_id": c.botilbud_id, "tovholder_sub": c.tovholder_sub,
             "open_tasks": open_, "overdue_tasks": late} for c, open_, late in rows]


# ---------------------------------------------------------------- citizen timeline and tasks


async def _require_citizen_access(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID,
                                  serving: str | None) -> m.Citizen | None:
    citizen = await repo.get_citizen(uow.session, citizen_id)
    network = await repo.network_citizens(uow.session, user.sub, [citizen_id])
    if not may_see_citizen(actor_from(user, serving=serving), citizen_id=citizen_id,
                           citizen_botilbud_id=citizen.botilbud_id if citizen else None, network_citizens=network,
                           citizen_municipality=citizen.municipality if citizen else None):
        raise Forbidden("Du har ikke adgang til denne borgers forløb (kræver samme botilbud, netværket eller visitationen).")
    return citizen


async def citizen_overview(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, *, limit: int = 200,
                           serving: str | None = None) -> dict[str, Any]:
    """``serving``: the installation's municipality (``tovholder.scopes.serving_municipality``)."""
    citizen = await _require_citizen_access(uow, user, citizen_id, serving)
    actor = actor_of(user)
    circle = CitizenCircle(
        citizen_id=str(citizen_id), botilbud_id=citizen.botilbud_id if citizen else None,
        tovholder_sub=citizen.tovholder_sub if citizen else None,
        network_subs=frozenset(await repo.network_of(uow.session, citizen_id)),
    )
    sees_health = may_see_health_copy(actor, circle)
    entries = await repo.timeline_of(uow.session, citizen_id, without_service=None if sees_health else HEALTH_SERVICE,
                                     limit=limit)
    tasks = [
        row for row in await repo.citizen_tasks(uow.session, citizen_id)
        if may_see_task_on_timeline(repo.to_domain(row), actor, sees_health=sees_health)
    ]
    uow.audit(user, "citizen.timeline.read", citizen_id=citizen_id, object_type="citizen", object_id=citizen_id)
    await uow.commit()
    return {
        "citizen_id": str(citizen_id),
        "name": citizen.name if citizen else None,
        "botilbud_id": citizen.botilbud_id if citizen else None,
        "tovholder_sub": citizen.tovholder_sub if citizen else None,
        "timeline": [
            {"event_id": e.event_id, "event_type": e.event_type, "service": e.service,
             "service_label": SERVICE_LABELS_DA.get(e.service, e.service), "occurred_at": e.occurred_at, "title": e.title}
            for e in entries
        ],
        "tasks": [task_json(t) for t in tasks],
    }


# ---------------------------------------------------------------- visitation board


BOARD_ROLES = ("visitation", "coordinator", "admin")


async def visitation_board(uow: UnitOfWork, user: Principal, *, per_column: int = 100,
                           serving: str | None = None) -> dict[str, Any]:
    if user.role not in BOARD_ROLES:
        raise Forbidden("Visitationstavlen er for visitation og koordinatorer.")
    columns = []
    for status, label in BOARD_COLUMNS_DA.items():
        # A botilbud's coordinators see the cases for their own botilbud.
        rows, total = await repo.board_column(uow.session, status.value, limit=per_column,
                                              narrow_to_botilbud=user.role == "coordinator", botilbud_id=user.botilbud,
                                              scope=actor_from(user, serving=serving).scope)
        columns.append({
            "status": status.value, "label": label, "count": total,
            "cases": [
                {"referral_id": str(c.referral_id), "citizen_id": str(c.citizen_id), "citizen_name": name,
                 "step": c.step, "botilbud_id": c.botilbud_id, "legal_basis": c.legal_basis, "updated_at": c.updated_at}
                for c, name in rows
            ],
        })
    await uow.audit_many(user, "visitation-board.read",
                         [(case["citizen_id"], case["referral_id"]) for column in columns for case in column["cases"]],
                         object_type="referral")
    await uow.commit()
    return {"columns": columns}


# ---------------------------------------------------------------- notices (reminders, escalations)


async def my_notices(uow: UnitOfWork, user: Principal, since: datetime | None, *, limit: int = 20) -> list[dict[str, Any]]:
    rows = await repo.notices_for(uow.session, work_queue_scope(actor_of(user)), since, limit)
    return [{"id": n.id, "task_id": str(n.task_id), "kind": n.kind, "text": n.text, "created_at": n.created_at} for n in rows]


# ---------------------------------------------------------------- events from referrals, plans and health


def consumed_event_models() -> list[type[BaseEvent]]:
    return [model for model in EVENT_REGISTRY.values() if model.topic.producer in CONSUMED_PRODUCERS]


async def prepare_events(uow: UnitOfWork, events: list[BaseEvent]) -> None:
    """Before a consumer batch's handlers: its citizens' read-model rows, in one SELECT."""
    await repo.look_up_citizens(uow, {e.citizen_id for e in events if isinstance(e, EventBody)})


async def take_in_event(uow: UnitOfWork, event: BaseEvent, meta: EventMeta, *, config: NotificationsConfig) -> None:
    """(1) Update the read models (citizen, network, timeline, visitation board; the consents are kept by
    the kit's ``consent_events`` beside this), (2) apply the task rules (``domain/rules.py``), (3) queue
    deliveries for partner subscriptions — in the kit's unit of work, so the inbox entry, the tasks, their history, the outbox events and the queued
    deliveries commit together (the kit commits)."""
    now = now_utc()
    at = meta.time or now
    data = event.model_dump()
    if not isinstance(event, EventBody):
        # About no known citizen (e.g. a parked hospital notice): only the task rules apply.
        await apply_task_rules(uow, IncomingEvent.from_body(event_id=meta.event_id, time=at, body=event), now=now,
                               config=config)
        return
    citizen = await repo.citizen_or_new(uow, event.citizen_id)
    _update_citizen(citizen, meta.event_type, data, at)
    await _update_network(uow, meta.event_type, event.citizen_id, data)
    await _record_timeline_and_board(uow, meta, event.citizen_id, data, at)
    incoming = IncomingEvent.from_body(event_id=meta.event_id, time=at, body=event, citizen_botilbud_id=citizen.botilbud_id)
    await apply_task_rules(uow, incoming, now=now, config=config)
    await queue_deliveries(uow, meta, event, at)


def _event_name(event_type: str) -> str:
    return event_type.split(".")[2] if event_type.count(".") >= 3 else ""


def _update_citizen(citizen: m.Citizen, event_type: str, data: dict[str, Any], at: datetime) -> None:
    name = _event_name(event_type)
    if name == "citizen-registered" and data.get("citizen_name"):
        citizen.name = data["citizen_name"]
    if name == "citizen-registered" and isinstance(data.get("cpr_hash"), str):
        citizen.cpr_hash = data["cpr_hash"]
    if name == "citizen-registered" and data.get("municipality"):
        citizen.municipality = data["municipality"]
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


async def _update_network(uow: UnitOfWork, event_type: str, citizen_id: uuid.UUID, data: dict[str, Any]) -> None:
    name = _event_name(event_type)
    if name == "network-member-added":
        await repo.put_network_member(uow.session, citizen_id=citizen_id, staff_id=data["staff_id"], role=data["role"],
                                      added_at=data["added_at"])
    elif name == "network-member-removed":
        await repo.remove_network_member(uow.session, citizen_id, data["staff_id"])


async def _record_timeline_and_board(uow: UnitOfWork, meta: EventMeta, citizen_id: uuid.UUID, data: dict[str, Any],
                                     at: datetime) -> None:
    entry = timeline_entry(event_id=meta.event_id, event_type=meta.event_type, citizen_id=citizen_id, time=at, data=data)
    repo.add_timeline_entry(uow, entry)
    update = case_update(meta.event_type, data, at)
    if update is not None:
        await repo.put_visitation_case(uow.session, citizen_id, update)


async def apply_task_rules(uow: UnitOfWork, incoming: IncomingEvent, *, now: datetime,
                           config: NotificationsConfig) -> list[d.Task]:
    actions = evaluate(incoming)
    if not actions:
        return []
    concerned = tasks_concerned(actions)
    if incoming.citizen_id is not None:
        rows = await repo.citizen_task_rows(uow.session, incoming.citizen_id, concerned)
    else:
        rows = await repo.unattributed_task_rows(uow.session, concerned)
    by_id = {row.id: row for row in rows}
    before = {row.id: repo.to_domain(row) for row in rows}
    applied = apply_actions(actions, incoming, list(before.values()), now=now, new_task_id=uuid.uuid4)
    policy = config.escalation
    for task in applied.created:
        repo.save(uow, task, policy)
        emit_task_events(uow, None, task)
    for task in applied.changed:
        repo.save(uow, task, policy, row=by_id[task.task_id])
        emit_task_events(uow, before[task.task_id], task)
    if applied.touched:
        uow.audit(None, "task.rules", citizen_id=incoming.citizen_id, object_type="event", object_id=incoming.event_id,
                  detail={"event_type": incoming.event_type, "created": len(applied.created), "changed": len(applied.changed)})
    return applied.touched


async def queue_deliveries(uow: UnitOfWork, meta: EventMeta, body: EventBody, at: datetime) -> int:
    """One pending delivery per active subscription that wants this event type; the consent check
    happens at every attempt (a revocation may come in between)."""
    if consent_rules.category_of(meta.event_type) is None:
        return 0
    subscriptions = await repo.subscriptions_wanting(uow, meta.event_type)
    if not subscriptions:
        return 0
    payload = dlv.cloudevent_body(event_id=meta.event_id, source=meta.source, event_type=meta.event_type, time=at,
                                  subject=str(body.citizen_id), data=body.model_dump(mode="json")).decode()
    now = now_utc()
    for subscription_id in subscriptions:
        await repo.queue_delivery(uow.session, subscription_id=subscription_id, event_id=meta.event_id,
                                  event_type=meta.event_type, citizen_id=body.citizen_id, body=payload, at=now)
    return len(subscriptions)


# ---------------------------------------------------------------- scheduler: reminders, escalation, overdue flags


@dataclass
class SweepCounts:
    looked_at: int = 0
    escalated: int = 0
    overdue: int = 0
    reminders: int = 0


async def sweep_due_tasks(uow: UnitOfWork, config: NotificationsConfig, now: datetime | None = None) -> SweepCounts:
    """One pass over the tasks whose ``next_check_at`` has come."""
    now = now or now_utc()
    policy = config.escalation
    counts = SweepCounts()
    rows = await repo.tasks_due_for_check(uow.session, now, config.sweep_batch_size)
    if not rows:
        return counts
    by_id = {row.id: row for row in rows}
    before = {row.id: repo.to_domain(row) for row in rows}
    result = sweep(before.values(), now, policy)
    for task in result.changed:
        repo.save(uow, task, policy, row=by_id[task.task_id])
        emit_task_events(uow, before[task.task_id], task)
        if task.task_id in result.escalated:
            repo.add_notice(uow.session, task, "escalation", f"Eskaleret (ikke taget i tide): {task.title}"[:300])
        if task.task_id in result.flagged_overdue:
            repo.add_notice(uow.session, task, "overdue", f"Overskredet: {task.title}"[:300])
    for task, reminder in result.reminders:
        repo.add_notice(uow.session, task, "reminder", f"{reminder.label}: {task.title}"[:300])
    for task, pool in result.late_promises:
        repo.add_pool_notice(uow.session, task, pool, "escalation",
                             f"Over fristen, borgeren venter (taget, ikke løst): {task.title}"[:300])
    changed_ids = {task.task_id for task in result.changed}
    for row in rows:
        if row.id not in changed_ids:
            # Nothing fired (e.g. the escalation delay was configured longer): move the check on.
            repo.write_row(row, before[row.id], policy)
        if row.next_check_at is not None and row.next_check_at <= now:
            row.next_check_at = None  # never spin on a moment that cannot fire
    await uow.commit()
    counts.looked_at = len(rows)
    counts.escalated = len(result.escalated)
    counts.overdue = len(result.flagged_overdue)
    counts.reminders = len(result.reminders)
    return counts


# ---------------------------------------------------------------- partners: subscriptions (spec §4)
# A partner sees and changes only its own organisation's subscriptions (the token's ``org``).


def deliverable_event_types() -> frozenset[str]:
    consumed = [t for t, model in EVENT_REGISTRY.items() if model.topic.producer in CONSUMED_PRODUCERS]
    return consent_rules.deliverable(consumed)


def event_types_for(partner: Principal) -> list[dict[str, Any]]:
    # ``legal_basis_without_consent``: a provision naming *this* partner as recipient; otherwise every
    # delivery needs the citizen's consent for the category to the partner's organisation.
    return [
        {"type": t, "category": consent_rules.category_of(t),
         "legal_basis_without_consent": consent_rules.legal_basis_without_consent(t, partner.org or "")}
        for t in sorted(deliverable_event_types())
    ]


def subscription_json(sub: m.Subscription) -> dict[str, Any]:
    return {
        "subscription_id": str(sub.id), "partner_org": sub.partner_org, "callback_url": sub.callback_url,
        "event_types": sub.event_types, "active": sub.active, "created_at": sub.created_at, "payload": sub.payload,
    }


async def subscribe(uow: UnitOfWork, partner: Principal, body: bytes, *, allow_loopback: bool,
                    box: SecretBox) -> JSONResponse:
    """Register a callback URL: a receipt (202, or 422/409/503 with the reason), like every partner message."""
    # Read raw, like every partner endpoint: the kit's parser caps depth and refuses NUL, so a
    # hostile body gets a receipt instead of FastAPI's own parsing error.
    try:
        raw = parse_body(body)
    except FatalMessage as exc:
        return receipt_response(422, receipt_body(None, "fatal-error", exc.reason))
    if isinstance(raw, dict) and raw.get("message_id") is None:
        raw = {**raw, "message_id": str(uuid.uuid4())}  # optional here: a subscription is not a clinical message

    async def process(uow: UnitOfWork, message: SubscriptionMessage) -> dict[str, Any]:
        if not partner.org:
            raise FatalMessage("the token carries no org; partner tokens must name the organisation (SOR code)", 422)
        payload = {k: v for k, v in raw.items() if k != "message_id"}
        try:
            wanted = dlv.validate_subscription(
                payload, allow_loopback=allow_loopback, deliverable_event_types=deliverable_event_types(),
                fhir_event_types=FHIR_EVENT_TYPES,
            )
            # Resolved now and again before every delivery (a name can change what it points at).
            await webhooks.resolve_callback(wanted.callback_url, allow_loopback=allow_loopback)
        except InvalidInput as error:
            raise FatalMessage(str(error), 422) from None
        except webhooks.CallbackRefused as refusal:
            raise FatalMessage(refusal.reason, 422) from None
        sub = repo.add_subscription(uow, partner_org=partner.org, created_by=partner.sub,
                                    callback_url=wanted.callback_url, event_types=list(wanted.event_types),
                                    encrypted_secret=box.encrypt(wanted.secret),  # encrypted at rest
                                    payload=wanted.payload)
        uow.audit(partner, "subscription.create", object_type="subscription", object_id=sub.id,
                  detail={"event_types": list(wanted.event_types), "payload": wanted.payload})
        return {"subscription_id": str(sub.id), "event_types": list(wanted.event_types)}

    return await receive_message(uow, raw, SubscriptionMessage, endpoint="subscriptions", sender=partner, process=process)


async def list_subscriptions(uow: UnitOfWork, partner: Principal) -> list[dict[str, Any]]:
    return [subscription_json(s) for s in await repo.subscriptions_of(uow.session, partner.org or "")]


NO_SUCH_SUBSCRIPTION = "No subscription with that id for your organisation."


async def _own_subscription(uow: UnitOfWork, partner: Principal, subscription_id: uuid.UUID, *,
                            lock: bool = False) -> m.Subscription:
    sub = await repo.get_subscription(uow.session, subscription_id, lock=lock)
    if sub is None:
        raise NotFound(NO_SUCH_SUBSCRIPTION)
    authorize(sub.partner_org == partner.org, NO_SUCH_SUBSCRIPTION, hide=True, not_found=NO_SUCH_SUBSCRIPTION,
              object_type="subscription", object_id=sub.id)
    return sub


async def stop_subscription(uow: UnitOfWork, partner: Principal, subscription_id: uuid.UUID) -> dict[str, Any]:
    sub = await _own_subscription(uow, partner, subscription_id, lock=True)
    sub.active = False
    uow.audit(partner, "subscription.stop", object_type="subscription", object_id=sub.id)
    await uow.commit()
    return subscription_json(sub)


def delivery_json(row: m.Delivery, attempts: list[m.DeliveryAttempt]) -> dict[str, Any]:
    return {
        "delivery_id": str(row.id), "event_id": row.event_id, "event_type": row.event_type,
        "status": row.status, "attempts": row.attempts, "next_attempt_at": row.next_attempt_at,
        "last_error": row.last_error, "delivered_at": row.delivered_at, "dead_at": row.dead_at,
        # Why it was withheld or dead-lettered, and what allowed it (a consent or a legal basis).
        "reason": row.reason, "basis": row.basis, "created_at": row.created_at,
        "log": [
            {"at": a.at, "outcome": a.outcome, "status_code": a.status_code, "error": a.error, "duration_ms": a.duration_ms}
            for a in attempts
        ],
    }


async def delivery_log(uow: UnitOfWork, partner: Principal, subscription_id: uuid.UUID, *, status: str | None,
                       limit: int, before: datetime | None) -> dict[str, Any]:
    sub = await _own_subscription(uow, partner, subscription_id)
    if status is not None and status not in dlv.DeliveryStatus._value2member_map_:
        raise DomainError(f"status must be one of {', '.join(s.value for s in dlv.DeliveryStatus)}")
    rows = await repo.deliveries_of(uow.session, sub.id, status=status, before=before, limit=limit)
    attempts = await repo.attempts_of(uow.session, [row.id for row in rows])
    return {"subscription_id": str(sub.id), "deliveries": [delivery_json(r, attempts[r.id]) for r in rows]}


async def resend(uow: UnitOfWork, partner: Principal, subscription_id: uuid.UUID, *,
                 delivery_ids: list[uuid.UUID] | None, event_ids: list[str] | None) -> dict[str, Any]:
    """Queue deliveries again (default: every dead and withheld one); the consent gate runs again at delivery."""
    sub = await _own_subscription(uow, partner, subscription_id)
    rows = await repo.deliveries_to_resend(uow.session, sub.id, delivery_ids=delivery_ids, event_ids=event_ids)
    now = datetime.now().astimezone()
    queued, skipped = [], []
    for row in rows:
        try:
            again = dlv.resend(repo.delivery_to_domain(row), now)
        except TransitionNotAllowed:
            skipped.append(str(row.id))  # already queued
            continue
        repo.write_delivery(row, again)
        queued.append(str(row.id))
    uow.audit(partner, "subscription.resend", object_type="subscription", object_id=sub.id, detail={"queued": len(queued)})
    await uow.commit()
    return {"subscription_id": str(sub.id), "queued": queued, "already_queued": skipped}


# ---------------------------------------------------------------- partner delivery
# Three steps, so the HTTP call happens outside any transaction: lease (the lease keeps other
# workers away), the consent gate, the call, then record the attempt.


@dataclass
class Leased:
    delivery_id: uuid.UUID
    subscription_id: uuid.UUID


CLOUDEVENT_JSON = "application/cloudevents+json; charset=utf-8"


@dataclass(frozen=True)
class ReadyDelivery:
    """A delivery the consent gate let through, with what the call needs."""

    delivery_id: uuid.UUID
    body: bytes
    url: str
    secret: str
    org: str
    event_id: str
    event_type: str
    basis: str | None
    content_type: str = CLOUDEVENT_JSON


@dataclass(frozen=True)
class SentAttempt:
    outcome: dlv.AttemptOutcome
    duration_ms: int


async def lease_deliveries(uow: UnitOfWork, config: NotificationsConfig, now: datetime) -> list[Leased]:
    """Take the due deliveries for ``delivery_lease_s`` (rows another worker holds are skipped)."""
    rows = await repo.due_deliveries(uow.session, now, config.delivery_batch_size)
    leased = []
    for row in rows:
        row.next_attempt_at = now + timedelta(seconds=config.delivery_lease_s)
        leased.append(Leased(row.id, row.subscription_id))
    await uow.commit()
    return leased


NO_CITIZEN_FOR_YOU = ("No citizen your organisation has a consent or a legal basis for has this CPR number "
                      "(or none is known here).")


async def issue_citizen_reference(uow: UnitOfWork, partner: Principal, cpr: str, *, vault: CprVault) -> dict[str, Any]:
    """``POST /integration/v1/citizen-references``: the reference this partner's deliveries name the
    citizen by, for a CPR number the partner already holds — only where the partner has the citizen's
    consent or a legal basis. The same 404 for an unknown CPR and for a citizen the partner may not
    know of; every lookup of a known citizen is audited (it shows in the citizen's Min log)."""
    cpr_hash = vault.hash(normalize_cpr(cpr))  # InvalidCpr → 422, never echoing the number
    citizen = await repo.citizen_by_cpr_hash(uow.session, cpr_hash)
    if citizen is None:
        raise NotFound(NO_CITIZEN_FOR_YOU)
    allowed = consent_rules.may_know_of(partner_org=partner.org or "",
                                        consents=await repo.consents(uow.session, citizen.id), at=now_utc())
    if not allowed:  # answered like an unknown CPR; the kit audits the refusal (with the request's path)
        raise NotVisible(NO_CITIZEN_FOR_YOU, audit_action="citizen_reference.refused", citizen_id=citizen.id,
                         object_type="citizen", object_id=citizen.id)
    uow.audit(partner, "citizen_reference.read", citizen_id=citizen.id, object_type="citizen", object_id=citizen.id,
              detail={"org": partner.org})
    await uow.commit()
    return {"citizen_reference": vault.citizen_reference(partner.org or "", citizen.id), "system": CITIZEN_REFERENCE_SYSTEM}


def _as_delivered(sub: m.Subscription, row: m.Delivery, envelope: dict[str, Any],
                  vault: CprVault | None) -> tuple[bytes, str]:
    """What the partner receives: the CloudEvent, or the resource it changed as FHIR; both name the
    citizen by the partner's own citizen reference too (``tovholdercitizenref`` / ``subject.identifier``)."""
    reference = vault.citizen_reference(sub.partner_org, row.citizen_id) if vault is not None else None
    if sub.payload == "fhir":  # made from the very event the gate let through
        resource = event_as_fhir(row.event_type, envelope.get("data") or {})
        if reference:
            resource["subject"]["identifier"] = {"system": CITIZEN_REFERENCE_SYSTEM, "value": reference}
        return json.dumps(resource).encode(), FHIR_JSON
    if reference is None:
        return row.body.encode(), CLOUDEVENT_JSON
    return json.dumps({**envelope, "tovholdercitizenref": reference}).encode(), CLOUDEVENT_JSON


async def gate_delivery(uow: UnitOfWork, leased: Leased, box: SecretBox,
                        vault: CprVault | None = None) -> ReadyDelivery | str:
    """The consent gate, right before sending; a refusal is recorded with its reason (``"withheld"``),
    a delivery that is gone or no longer due is ``"skipped"``."""
    now = now_utc()
    row = await repo.get_delivery(uow.session, leased.delivery_id, lock=True)
    sub = await repo.get_subscription(uow.session, leased.subscription_id)
    if row is None or sub is None or row.status not in ("pending", "retrying"):
        return "skipped"
    envelope = json.loads(row.body)
    if not sub.active:
        decision = refused("abonnementet er stoppet", en="the subscription was stopped")
    else:
        consents = await repo.consents(uow.session, row.citizen_id)
        decision = consent_rules.decide(event_type=row.event_type, event_data=envelope.get("data") or {},
                                        partner_org=sub.partner_org,
                                        consents=consents, at=now)
    if not decision.allowed:
        # The delivery log is the partner's: it reads the English reason.
        repo.write_delivery(row, dlv.withhold(repo.delivery_to_domain(row), decision.en, now))
        repo.add_attempt(uow.session, row.id, at=now, outcome="withheld", error=decision.en)
        uow.audit(None, "delivery.withheld", citizen_id=row.citizen_id, object_type="delivery", object_id=row.id,
                  detail={"org": sub.partner_org, "event_type": row.event_type, "reason": decision.reason})
        await uow.commit()
        return "withheld"
    body, content_type = _as_delivered(sub, row, envelope, vault)
    return ReadyDelivery(delivery_id=leased.delivery_id, body=body, url=sub.callback_url,
                         secret=box.decrypt(sub.secret), org=sub.partner_org, event_id=row.event_id,
                         event_type=row.event_type, basis=decision.basis, content_type=content_type)


async def send_delivery(outbound: webhooks.Outbound, ready: ReadyDelivery) -> SentAttempt:
    """The signed HTTP call. The host is resolved and checked again now: what it resolved to at
    registration proves nothing today."""
    attempted_at = now_utc()
    headers = {
        "Content-Type": ready.content_type,
        dlv.SIGNATURE_HEADER: dlv.sign(ready.secret, ready.body),
        # The delivery id is the webhook-id: the same on every retry and resend of this delivery.
        **dlv.standard_webhook_headers(ready.secret, webhook_id=str(ready.delivery_id), body=ready.body, at=attempted_at),
        "User-Agent": "Tovholder-Notifications/1",
        "X-Tovholder-Delivery": str(ready.delivery_id),
        "X-Tovholder-Event-Id": ready.event_id,
    }
    started = time.perf_counter()
    try:
        target = await webhooks.resolve_callback(ready.url, allow_loopback=outbound.allow_loopback,
                                                 resolve=outbound.resolve)
        status_code = await outbound.send(target, ready.body, headers)
        outcome = dlv.AttemptOutcome(at=now_utc(), status_code=status_code)
    except (webhooks.CallbackRefused, httpx.HTTPError) as error:
        outcome = dlv.AttemptOutcome(at=now_utc(), error=webhooks.failure_class(error))
    except InvalidInput:
        # Registered under older rules that no longer allow this URL.
        outcome = dlv.AttemptOutcome(at=now_utc(), error=webhooks.ADDRESS_NOT_ALLOWED)
    return SentAttempt(outcome, int((time.perf_counter() - started) * 1000))


async def record_attempt(uow: UnitOfWork, config: NotificationsConfig, ready: ReadyDelivery,
                         sent: SentAttempt) -> str:
    """Record the attempt and what comes next: ``"delivered"``, ``"failed"`` (retry at) or ``"dead"``."""
    row = await repo.get_delivery(uow.session, ready.delivery_id, lock=True)
    if row is None:
        return "skipped"
    outcome = sent.outcome
    after = dlv.record_attempt(repo.delivery_to_domain(row), outcome, config.backoff, basis=ready.basis)
    repo.write_delivery(row, after)
    result = {dlv.DeliveryStatus.DELIVERED: "delivered", dlv.DeliveryStatus.DEAD: "dead"}.get(after.status, "failed")
    repo.add_attempt(uow.session, row.id, at=outcome.at, outcome=result, status_code=outcome.status_code,
                     error=outcome.error, duration_ms=sent.duration_ms)
    if outcome.succeeded:
        # A disclosure of citizen data to a partner: audited with what allowed it.
        uow.audit(None, "delivery.sent", citizen_id=row.citizen_id, object_type="delivery", object_id=row.id,
                  detail={"org": ready.org, "event_type": ready.event_type, "basis": ready.basis})
    await uow.commit()
    return result
