"""Between the tables and the domain: load rows as domain tasks, write domain tasks back (appending
their new history entries), and the work-queue query."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Select, false, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.notifications import models as m
from services.notifications.domain import delivery as dlv
from services.notifications.domain import tasks as d
from services.notifications.domain.access import QueueScope
from services.notifications.domain.queue import QueueFilter, sort_at
from services.notifications.domain.scheduling import EscalationPolicy, next_check_at

ACTIVE = ("open", "claimed", "in_progress")


# ---------------------------------------------------------------- mapping


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, d.Pool):
        return {"role": value.role.value, "botilbud": value.botilbud_id}
    if isinstance(value, d.Link):
        return str(value)
    if isinstance(value, d.Reminder):
        return {"at": value.at.isoformat(), "label": value.label,
                "sent_at": value.sent_at.isoformat() if value.sent_at else None}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _reminders_from(raw: list[dict[str, Any]] | None) -> tuple[d.Reminder, ...]:
    out = []
    for r in raw or ():
        out.append(d.Reminder(
            at=datetime.fromisoformat(r["at"]), label=r["label"],
            sent_at=datetime.fromisoformat(r["sent_at"]) if r.get("sent_at") else None,
        ))
    return tuple(out)


def to_domain(row: m.Task) -> d.Task:
    """A row as a domain task with an empty history: after a transition, ``history`` holds exactly
    the entries to append."""
    pool = d.Pool(d.Role(row.pool_role), row.pool_botilbud) if row.pool_role else None
    return d.Task(
        task_id=row.id,
        kind=d.TaskKind(row.kind) if row.kind in d.TaskKind._value2member_map_ else d.TaskKind.OTHER,
        title=row.title,
        citizen_id=row.citizen_id,
        status=d.TaskStatus(row.status),
        priority=d.Priority(row.priority),
        created_at=row.created_at,
        updated_at=row.updated_at,
        source_event_id=row.source_event_id,
        source_event_type=row.source_event_type or "",
        botilbud_id=row.botilbud_id,
        owner_sub=row.owner,
        pool=pool,
        business_status=row.business_status,
        due_at=row.due_at,
        description=row.description,
        checklist=tuple(row.checklist or ()),
        links=tuple(d.Link.parse(x) for x in (row.links or ()) if isinstance(x, str) and ":" in x),
        reminders=_reminders_from(row.reminders),
        escalated_at=row.escalated_at,
        overdue_since=row.overdue_since,
        cancelled_by=row.cancelled_by,
        history=(),
    )


def write_row(row: m.Task, task: d.Task, policy: EscalationPolicy) -> m.Task:
    row.id = task.task_id
    row.citizen_id = task.citizen_id
    row.botilbud_id = task.botilbud_id
    # The kind column keeps what the row had when the domain did not know it (mapped to OTHER).
    if row.kind is None or row.kind in d.TaskKind._value2member_map_ or task.kind is not d.TaskKind.OTHER:
        row.kind = task.kind.value
    row.title = task.title
    row.status = task.status.value
    row.business_status = task.business_status
    row.priority = task.priority.value
    row.due_at = task.due_at
    row.sort_at = sort_at(task.due_at)
    row.owner = task.owner_sub
    row.pool_role = task.pool.role.value if task.pool else None
    row.pool_botilbud = task.pool.botilbud_id if task.pool else None
    row.source_event_id = task.source_event_id
    row.source_event_type = task.source_event_type
    row.links = [str(link) for link in task.links]
    row.description = task.description
    row.checklist = list(task.checklist)
    row.reminders = _jsonable(task.reminders)
    row.escalated_at = task.escalated_at
    row.overdue_since = task.overdue_since
    row.cancelled_by = task.cancelled_by
    row.next_check_at = next_check_at(task, policy)
    if row.created_at is None:
        row.created_at = task.created_at
    row.updated_at = task.updated_at
    return row


def history_rows(task: d.Task) -> list[m.TaskChange]:
    return [
        m.TaskChange(
            task_id=task.task_id, at=entry.at, by=entry.actor, change=entry.action, note=entry.note,
            changes=[{"field": c.field, "old": _jsonable(c.old), "new": _jsonable(c.new)} for c in entry.changes] or None,
        )
        for entry in task.history
    ]


def save(session: AsyncSession, task: d.Task, policy: EscalationPolicy, row: m.Task | None = None) -> m.Task:
    """Insert or update ``task`` and append its new history entries."""
    if row is None:
        row = m.Task()
        write_row(row, task, policy)
        session.add(row)
    else:
        write_row(row, task, policy)
    session.add_all(history_rows(task))
    return row


# ---------------------------------------------------------------- queries


async def citizen_task_rows(session: AsyncSession, citizen_id: uuid.UUID) -> list[m.Task]:
    """All of a citizen's tasks, locked: the rules may change any of them."""
    result = await session.execute(
        select(m.Task).where(m.Task.citizen_id == citizen_id).order_by(m.Task.created_at).with_for_update()
    )
    return list(result.scalars())


async def unattributed_task_rows(session: AsyncSession, link: str) -> list[m.Task]:
    """Tasks about no known citizen that carry ``link`` (served by a small partial GIN index)."""
    result = await session.execute(
        select(m.Task).where(m.Task.citizen_id.is_(None), m.Task.links.contains([link]))
        .order_by(m.Task.created_at).with_for_update()
    )
    return list(result.scalars())


def _filtered(query: Select, f: QueueFilter, now: datetime) -> Select:
    if f.kind is not None:
        query = query.where(m.Task.kind == f.kind.value)
    if f.citizen_id is not None:
        query = query.where(m.Task.citizen_id == f.citizen_id)
    # Due filters run on sort_at (= due_at, or far future when absent) so the queue index serves them.
    if f.due_before is not None:
        query = query.where(m.Task.sort_at <= f.due_before)
    if f.due_after is not None:
        query = query.where(m.Task.sort_at >= f.due_after, m.Task.due_at.is_not(None))
    if f.overdue is True:
        query = query.where(m.Task.sort_at < now)
    elif f.overdue is False:
        query = query.where(m.Task.sort_at >= now)
    if f.cursor is not None:
        query = query.where(tuple_(m.Task.sort_at, m.Task.id) > tuple_(f.cursor.sort_at, f.cursor.task_id))
    return query.order_by(m.Task.sort_at, m.Task.id).limit(f.limit + 1)


def work_queue_select(scope: QueueScope, f: QueueFilter, now: datetime) -> Select:
    """Mine (active, any pool) ∪ unclaimed open tasks in each of my pools, each part an ordered index
    range scan with LIMIT; the merge sorts at most (1 + pools) × (limit + 1) rows."""
    parts = [_filtered(select(m.Task).where(m.Task.owner == scope.owner_sub, m.Task.status.in_(ACTIVE)), f, now)]
    for pool in scope.pools:
        botilbud = m.Task.pool_botilbud == pool.botilbud_id if pool.botilbud_id else m.Task.pool_botilbud.is_(None)
        parts.append(_filtered(
            select(m.Task).where(m.Task.owner.is_(None), m.Task.status == "open", m.Task.pool_role == pool.role.value, botilbud),
            f, now,
        ))
    merged = union_all(*parts).subquery("queue")
    task = aliased(m.Task, merged)
    return select(task).order_by(task.sort_at, task.id).limit(f.limit + 1)


async def work_queue(session: AsyncSession, scope: QueueScope, f: QueueFilter, now: datetime) -> tuple[list[m.Task], bool]:
    rows = list((await session.execute(work_queue_select(scope, f, now))).scalars())
    return rows[: f.limit], len(rows) > f.limit


async def network_citizens(session: AsyncSession, staff_id: str, citizen_ids: Iterable[uuid.UUID] | None = None) -> set[uuid.UUID]:
    query = select(m.NetworkMember.citizen_id).where(m.NetworkMember.staff_id == staff_id)
    if citizen_ids is not None:
        ids = list(citizen_ids)
        query = query.where(m.NetworkMember.citizen_id.in_(ids)) if ids else query.where(false())
    return set((await session.execute(query)).scalars())


async def network_of(session: AsyncSession, citizen_id: uuid.UUID) -> set[str]:
    """The staff in the citizen's network."""
    query = select(m.NetworkMember.staff_id).where(m.NetworkMember.citizen_id == citizen_id)
    return set((await session.execute(query)).scalars())


async def consents_for(session: AsyncSession, citizen_id: uuid.UUID) -> Sequence[m.Consent]:
    return list((await session.execute(select(m.Consent).where(m.Consent.citizen_id == citizen_id))).scalars())


def visible_tasks_select(*, citizen_id: uuid.UUID, include_final: bool = True) -> Select:
    query = select(m.Task).where(m.Task.citizen_id == citizen_id)
    if not include_final:
        query = query.where(m.Task.status.in_(ACTIVE))
    return query.order_by(m.Task.sort_at, m.Task.id)


# ---------------------------------------------------------------- deliveries


def delivery_to_domain(row: m.Delivery) -> dlv.Delivery:
    return dlv.Delivery(
        delivery_id=row.id, subscription_id=row.subscription_id, event_id=row.event_id, event_type=row.event_type,
        citizen_id=row.citizen_id, created_at=row.created_at, status=dlv.DeliveryStatus(row.status),
        attempts=row.attempts, next_attempt_at=row.next_attempt_at, last_error=row.last_error,
        delivered_at=row.delivered_at, dead_at=row.dead_at, reason=row.reason, basis=row.basis,
    )


def write_delivery(row: m.Delivery, delivery: dlv.Delivery) -> None:
    row.status = delivery.status.value
    row.attempts = delivery.attempts
    row.next_attempt_at = delivery.next_attempt_at
    row.last_error = delivery.last_error
    row.delivered_at = delivery.delivered_at
    row.dead_at = delivery.dead_at
    row.reason = delivery.reason
    row.basis = delivery.basis
