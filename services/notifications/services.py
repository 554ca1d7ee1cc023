"""Use cases shared by the JSON API and the staff pages: read the work queue, change a task, read a
citizen's timeline and the visitation board — each with access checks, audit and events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, or_, select

from services.notifications import models as m
from services.notifications import repository as repo
from services.notifications.main import NotificationsConfig
from services.notifications.domain import tasks as d
from services.notifications.domain.access import (
    HEALTH_SERVICE,
    may_see_citizen,
    may_see_health_copy,
    may_see_task,
    may_see_task_on_timeline,
    work_queue_scope,
)
from services.notifications.domain.errors import NotAllowed, NotificationsDomainError, TransitionNotAllowed
from services.notifications.domain.queue import Cursor, QueueFilter
from services.notifications.domain.timeline import BOARD_COLUMNS_DA, SERVICE_LABELS_DA
from services.notifications.handlers import emit_task_events
from tovholder.access import CitizenCircle
from tovholder.auth import Principal
from tovholder.errors import Conflict, DomainError, Forbidden, NotFound
from tovholder.uow import UnitOfWork


def actor_of(principal: Principal) -> d.Actor:
    role = d.Role(principal.role) if principal.role in d.Role._value2member_map_ else None
    return d.Actor(principal.sub, role, principal.botilbud)


def kit_error(error: NotificationsDomainError) -> Exception:
    if isinstance(error, NotAllowed):
        return Forbidden(str(error))
    if isinstance(error, TransitionNotAllowed):
        return Conflict(str(error))
    return DomainError(str(error))


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


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
    rows: list[m.Task]
    next_cursor: str | None


async def read_work_queue(uow: UnitOfWork, user: Principal, queue_filter: QueueFilter) -> QueuePage:
    now = now_utc()
    rows, more = await repo.work_queue(uow.session, work_queue_scope(actor_of(user)), queue_filter, now)
    next_cursor = Cursor(rows[-1].sort_at, rows[-1].id).encode() if more and rows else None
    citizens = sorted({str(r.citizen_id) for r in rows if r.citizen_id})
    if citizens:
        # One audit entry per read, naming every citizen whose tasks were shown.
        uow.audit(user, "work-queue.read", object_type="work-queue", detail={"citizens": citizens, "count": len(rows)})
        await uow.commit()
    return QueuePage(rows, next_cursor)


# ---------------------------------------------------------------- one task


async def visible_task(uow: UnitOfWork, user: Principal, task_id: uuid.UUID, *, lock: bool = False) -> tuple[m.Task, d.Task]:
    row = await uow.session.get(m.Task, task_id, with_for_update=lock)
    if row is None:
        raise NotFound("Opgaven findes ikke.")
    task = repo.to_domain(row)
    network = await repo.network_citizens(uow.session, user.sub, [row.citizen_id] if row.citizen_id else [])
    if not may_see_task(task, actor_of(user), network):
        raise NotFound("Opgaven findes ikke.")  # do not reveal tasks a person may not see
    return row, task


async def task_with_history(uow: UnitOfWork, user: Principal, task_id: uuid.UUID) -> dict[str, Any]:
    row, _ = await visible_task(uow, user, task_id)
    changes = (await uow.session.execute(
        select(m.TaskChange).where(m.TaskChange.task_id == row.id).order_by(m.TaskChange.at, m.TaskChange.id)
    )).scalars().all()
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
                      config: NotificationsConfig, note: str | None = None) -> m.Task:
    row, task = await visible_task(uow, user, task_id, lock=True)
    try:
        changed = TRANSITIONS[action](task, actor_of(user), now_utc(), note)
    except NotificationsDomainError as error:
        raise kit_error(error) from None
    if changed is not task:
        repo.save(uow.session, changed, config.escalation, row=row)
        emit_task_events(uow, task, changed)
    uow.audit(user, f"task.{action}", citizen_id=row.citizen_id, object_type="task", object_id=row.id)
    await uow.commit()
    return row


# ---------------------------------------------------------------- citizen timeline and tasks


async def _require_citizen_access(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID) -> m.Citizen | None:
    citizen = await uow.session.get(m.Citizen, citizen_id)
    network = await repo.network_citizens(uow.session, user.sub, [citizen_id])
    if not may_see_citizen(actor_of(user), citizen_id=citizen_id,
                           citizen_botilbud_id=citizen.botilbud_id if citizen else None, network_citizens=network):
        raise Forbidden("Du har ikke adgang til denne borgers forløb (kræver samme botilbud, netværket eller visitationen).")
    return citizen


async def citizen_overview(uow: UnitOfWork, user: Principal, citizen_id: uuid.UUID, *, limit: int = 200) -> dict[str, Any]:
    citizen = await _require_citizen_access(uow, user, citizen_id)
    actor = actor_of(user)
    circle = CitizenCircle(
        citizen_id=str(citizen_id), botilbud_id=citizen.botilbud_id if citizen else None,
        tovholder_sub=citizen.tovholder_sub if citizen else None,
        network_subs=frozenset(await repo.network_of(uow.session, citizen_id)),
    )
    sees_health = may_see_health_copy(actor, circle)
    query = select(m.TimelineEntry).where(m.TimelineEntry.citizen_id == citizen_id)
    if not sees_health:
        query = query.where(m.TimelineEntry.service != HEALTH_SERVICE)
    entries = (await uow.session.execute(query.order_by(m.TimelineEntry.occurred_at.desc()).limit(limit))).scalars().all()
    tasks = [
        row for row in (await uow.session.execute(repo.visible_tasks_select(citizen_id=citizen_id))).scalars().all()
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


async def visitation_board(uow: UnitOfWork, user: Principal, *, per_column: int = 100) -> dict[str, Any]:
    if user.role not in BOARD_ROLES:
        raise Forbidden("Visitationstavlen er for visitation og koordinatorer.")
    columns = []
    for status, label in BOARD_COLUMNS_DA.items():
        query = select(m.VisitationCase, m.Citizen.name).join(
            m.Citizen, m.Citizen.id == m.VisitationCase.citizen_id, isouter=True
        ).where(m.VisitationCase.status == status.value)
        count_query = select(func.count()).select_from(m.VisitationCase).where(m.VisitationCase.status == status.value)
        if user.role == "coordinator":
            # A botilbud's coordinators see the cases for their own botilbud.
            query = query.where(m.VisitationCase.botilbud_id == user.botilbud)
            count_query = count_query.where(m.VisitationCase.botilbud_id == user.botilbud)
        rows = (await uow.session.execute(query.order_by(m.VisitationCase.updated_at.desc()).limit(per_column))).all()
        total = (await uow.session.execute(count_query)).scalar_one()
        columns.append({
            "status": status.value, "label": label, "count": total,
            "cases": [
                {"referral_id": str(c.referral_id), "citizen_id": str(c.citizen_id), "citizen_name": name,
                 "step": c.step, "botilbud_id": c.botilbud_id, "legal_basis": c.legal_basis, "updated_at": c.updated_at}
                for c, name in rows
            ],
        })
    uow.audit(user, "visitation-board.read", object_type="visitation-board")
    await uow.commit()
    return {"columns": columns}


async def citizen_names(uow: UnitOfWork, citizen_ids: set[uuid.UUID]) -> dict[str, str]:
    if not citizen_ids:
        return {}
    rows = (await uow.session.execute(
        select(m.Citizen.id, m.Citizen.name).where(m.Citizen.id.in_(list(citizen_ids)), m.Citizen.name.is_not(None))
    )).all()
    return {str(citizen_id): name for citizen_id, name in rows}


# ---------------------------------------------------------------- notices (reminders, escalations)


async def my_notices(uow: UnitOfWork, user: Principal, since: datetime | None, *, limit: int = 20) -> list[dict[str, Any]]:
    actor = actor_of(user)
    pools = work_queue_scope(actor).pools
    mine = [m.StaffNotice.recipient == user.sub]
    for pool in pools:
        botilbud = m.StaffNotice.pool_botilbud == pool.botilbud_id if pool.botilbud_id else m.StaffNotice.pool_botilbud.is_(None)
        mine.append((m.StaffNotice.pool_role == pool.role.value) & botilbud)
    query = select(m.StaffNotice).where(or_(*mine))
    if since is not None:
        query = query.where(m.StaffNotice.created_at > since)
    rows = (await uow.session.execute(query.order_by(m.StaffNotice.created_at.desc()).limit(limit))).scalars().all()
    return [{"id": n.id, "task_id": str(n.task_id), "kind": n.kind, "text": n.text, "created_at": n.created_at} for n in rows]


def parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise DomainError(f"{what} skal være et UUID.") from None

