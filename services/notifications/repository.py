"""Every SQL statement of notifications, and the mapping between rows and domain objects: tasks and
their history, the work-queue query, the read models (citizens, network, consents, timeline,
visitation board), staff notices, partner subscriptions, deliveries and their attempt log.

Functions take the unit of work's session (``uow.session``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Select, false, func, or_, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.notifications import models as m
from services.notifications.domain import delivery as dlv
from services.notifications.domain import tasks as d
from services.notifications.domain.access import QueueScope
from services.notifications.domain.queue import QueueFilter, sort_at
from services.notifications.domain.rules import TasksConcerned
from services.notifications.domain.scheduling import EscalationPolicy, next_check_at
from services.notifications.domain.timeline import CaseUpdate, TimelineEntry
from tovholder import consent_read_model
from tovholder.consent import Consent
from tovholder.scopes import Scope
from tovholder.uow import UnitOfWork

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


def history_rows(task: d.Task) -> list[dict[str, Any]]:
    return [
        {"task_id": task.task_id, "at": entry.at, "by": entry.actor, "change": entry.action, "note": entry.note,
         "changes": [{"field": c.field, "old": _jsonable(c.old), "new": _jsonable(c.new)}
                     for c in entry.changes] or None}
        for entry in task.history
    ]


def save(uow: UnitOfWork, task: d.Task, policy: EscalationPolicy, row: m.Task | None = None) -> m.Task:
    """Insert or update ``task`` and append its new history entries. Nothing reads a task's history
    back in the transaction that writes it, so the entries go with the commit's own rows (one statement)."""
    if row is None:
        row = m.Task()
        write_row(row, task, policy)
        uow.session.add(row)
    else:
        write_row(row, task, policy)
    for change in history_rows(task):
        uow.insert_at_commit(m.TaskChange.__table__, change)
    return row


# ---------------------------------------------------------------- queries


async def citizen_task_rows(session: AsyncSession, citizen_id: uuid.UUID, concerned: TasksConcerned) -> list[m.Task]:
    """The citizen's tasks that the rules' actions concern (``TasksConcerned``), locked: they may change."""
    if concerned.none:
        return []
    which = []
    if concerned.links:
        which.append(m.Task.links.has_any(array(sorted(concerned.links))))
    if concerned.cancelled_by:
        which.append(m.Task.cancelled_by.in_(sorted(concerned.cancelled_by)))
    if concerned.active:
        which.append(m.Task.status.not_in([s.value for s in d.TaskStatus if s.is_final]))
    result = await session.execute(
        select(m.Task).where(m.Task.citizen_id == citizen_id, or_(*which)).order_by(m.Task.created_at).with_for_update()
    )
    return list(result.scalars())


async def unattributed_task_rows(session: AsyncSession, concerned: TasksConcerned) -> list[m.Task]:
    """Tasks about no known citizen that carry one of the links concerned (a small partial GIN index
    serves each); nothing else can find them."""
    rows: dict[uuid.UUID, m.Task] = {}
    for link in sorted(concerned.links):
        result = await session.execute(
            select(m.Task).where(m.Task.citizen_id.is_(None), m.Task.links.contains([link]))
            .order_by(m.Task.created_at).with_for_update()
        )
        for row in result.scalars():
            rows.setdefault(row.id, row)
    return list(rows.values())


def _filtered(query: Select, f: QueueFilter, now: datetime) -> Select:
    if f.kind is not None:
        query = query.where(m.Task.kind == f.kind.value)
    if f.priority is not None:
        query = query.where(m.Task.priority == f.priority.value)
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


async def consents(session: AsyncSession, citizen_id: uuid.UUID) -> list[Consent]:
    """The citizen's consents as the consent decision reads them (the kit's read model)."""
    return await consent_read_model.consents(session, m.ConsentRecord, citizen_id)


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


# ---------------------------------------------------------------- one task, its history, the scheduler's scan


async def get_task(session: AsyncSession, task_id: uuid.UUID, *, lock: bool = False) -> m.Task | None:
    return await session.get(m.Task, task_id, with_for_update=lock)


async def task_changes(session: AsyncSession, task_id: uuid.UUID) -> list[m.TaskChange]:
    result = await session.execute(
        select(m.TaskChange).where(m.TaskChange.task_id == task_id).order_by(m.TaskChange.at, m.TaskChange.id)
    )
    return list(result.scalars())


async def citizen_tasks(session: AsyncSession, citizen_id: uuid.UUID) -> list[m.Task]:
    return list((await session.execute(visible_tasks_select(citizen_id=citizen_id))).scalars())


async def tasks_due_for_check(session: AsyncSession, now: datetime, limit: int) -> list[m.Task]:
    """Tasks whose ``next_check_at`` has come, locked; rows another replica holds are skipped."""
    result = await session.execute(
        select(m.Task).where(m.Task.next_check_at <= now).order_by(m.Task.next_check_at)
        .limit(limit).with_for_update(skip_locked=True)
    )
    return list(result.scalars())


# ---------------------------------------------------------------- staff notices (reminders, escalations)


def add_notice(session: AsyncSession, task: d.Task, kind: str, text: str) -> m.StaffNotice:
    """A notice to the task's owner, or to its pool when nobody has it."""
    if task.owner_sub:
        notice = m.StaffNotice(task_id=task.task_id, citizen_id=task.citizen_id, recipient=task.owner_sub, kind=kind,
                               text=text)
    else:
        pool = task.pool
        notice = m.StaffNotice(task_id=task.task_id, citizen_id=task.citizen_id, kind=kind, text=text,
                               pool_role=pool.role.value if pool else None,
                               pool_botilbud=pool.botilbud_id if pool else None)
    session.add(notice)
    return notice


def add_pool_notice(session: AsyncSession, task: d.Task, pool: d.Pool, kind: str, text: str) -> m.StaffNotice:
    """A notice to a pool other than the task's (a late promise: its owner keeps it, the escalation role is told)."""
    notice = m.StaffNotice(task_id=task.task_id, citizen_id=task.citizen_id, kind=kind, text=text,
                           pool_role=pool.role.value, pool_botilbud=pool.botilbud_id)
    session.add(notice)
    return notice


async def notices_for(session: AsyncSession, scope: QueueScope, since: datetime | None, limit: int) -> list[m.StaffNotice]:
    """Notices to the person and to each of their pools, newest first."""
    mine = [m.StaffNotice.recipient == scope.owner_sub]
    for pool in scope.pools:
        botilbud = m.StaffNotice.pool_botilbud == pool.botilbud_id if pool.botilbud_id else m.StaffNotice.pool_botilbud.is_(None)
        mine.append((m.StaffNotice.pool_role == pool.role.value) & botilbud)
    query = select(m.StaffNotice).where(or_(*mine))
    if since is not None:
        query = query.where(m.StaffNotice.created_at > since)
    return list((await session.execute(query.order_by(m.StaffNotice.created_at.desc()).limit(limit))).scalars())


# ---------------------------------------------------------------- read models: citizens, network, consents


async def get_citizen(session: AsyncSession, citizen_id: uuid.UUID) -> m.Citizen | None:
    return await session.get(m.Citizen, citizen_id)


async def citizen_by_cpr_hash(session: AsyncSession, cpr_hash: str) -> m.Citizen | None:
    result = await session.execute(select(m.Citizen).where(m.Citizen.cpr_hash == cpr_hash).limit(1))
    return result.scalar_one_or_none()


async def look_up_citizens(uow: UnitOfWork, citizen_ids: set[uuid.UUID]) -> None:
    """A consumer batch's citizens in one SELECT, kept for this transaction (``citizen_or_new``)."""
    wanted = {c for c in citizen_ids if ("citizen", c) not in uow.looked_up}
    if not wanted:
        return
    found = {c.id: c for c in (await uow.session.execute(select(m.Citizen).where(m.Citizen.id.in_(wanted)))).scalars()}
    for citizen_id in wanted:
        uow.looked_up[("citizen", citizen_id)] = found.get(citizen_id)


async def citizen_or_new(uow: UnitOfWork, citizen_id: uuid.UUID) -> m.Citizen:
    # One citizen's events arrive in order on one partition, so no row lock is needed here.
    key = ("citizen", citizen_id)
    citizen = uow.looked_up[key] if key in uow.looked_up else await uow.session.get(m.Citizen, citizen_id)
    if citizen is None:
        citizen = m.Citizen(id=citizen_id)
        uow.session.add(citizen)
    uow.looked_up[key] = citizen
    return citizen


async def seed_citizen(session: AsyncSession, *, citizen_id: uuid.UUID, name: str, botilbud_id: str | None,
                       tovholder_sub: str | None) -> None:
    """A citizen of the demo data, unless already known."""
    await session.execute(
        insert(m.Citizen)
        .values(id=citizen_id, name=name, botilbud_id=botilbud_id, tovholder_sub=tovholder_sub)
        .on_conflict_do_nothing()
    )


async def citizen_names(session: AsyncSession, citizen_ids: Iterable[uuid.UUID]) -> dict[str, str]:
    ids = list(citizen_ids)
    if not ids:
        return {}
    rows = (await session.execute(
        select(m.Citizen.id, m.Citizen.name).where(m.Citizen.id.in_(ids), m.Citizen.name.is_not(None))
    )).all()
    return {str(citizen_id): name for citizen_id, name in rows}


async def put_network_member(session: AsyncSession, *, citizen_id: uuid.UUID, staff_id: str, role: str,
                             added_at: datetime) -> None:
    await session.execute(
        insert(m.NetworkMember)
        .values(citizen_id=citizen_id, staff_id=staff_id, role=role, added_at=added_at)
        .on_conflict_do_update(index_elements=["citizen_id", "staff_id"], set_={"role": role, "added_at": added_at})
    )


async def remove_network_member(session: AsyncSession, citizen_id: uuid.UUID, staff_id: str) -> None:
    member = await session.get(m.NetworkMember, (citizen_id, staff_id))
    if member is not None:
        await session.delete(member)


# ---------------------------------------------------------------- read models: timeline, visitation board


def add_timeline_entry(uow: UnitOfWork, entry: TimelineEntry) -> None:
    """Nothing reads the timeline back while an event is taken in: the line is written with the
    commit's own rows, in one statement (an event seen before keeps its line)."""
    uow.insert_at_commit(m.TimelineEntry.__table__, {
        "event_id": entry.event_id, "citizen_id": entry.citizen_id, "event_type": entry.event_type,
        "service": entry.service, "occurred_at": entry.occurred_at, "title": entry.title[:300]}, unless_there=True)


async def timeline_of(session: AsyncSession, citizen_id: uuid.UUID, *, without_service: str | None,
                      limit: int) -> list[m.TimelineEntry]:
    """The citizen's timeline, newest first; ``without_service`` leaves one service's lines out."""
    query = select(m.TimelineEntry).where(m.TimelineEntry.citizen_id == citizen_id)
    if without_service is not None:
        query = query.where(m.TimelineEntry.service != without_service)
    return list((await session.execute(query.order_by(m.TimelineEntry.occurred_at.desc()).limit(limit))).scalars())


async def put_visitation_case(session: AsyncSession, citizen_id: uuid.UUID, update: CaseUpdate) -> None:
    """Insert the case or update what the event knows (fields it does not carry keep their value)."""
    values = dict(referral_id=update.referral_id, citizen_id=citizen_id, status=update.status.value,
                  step=update.step, botilbud_id=update.botilbud_id, legal_basis=update.legal_basis,
                  updated_at=update.at)
    keep_known = {k: v for k, v in values.items() if v is not None and k != "referral_id"}
    await session.execute(
        insert(m.VisitationCase).values(**values)
        .on_conflict_do_update(index_elements=["referral_id"], set_=keep_known)
    )


def _citizens_of_municipality(scope: Scope) -> Any:
    """The citizens of the municipality a visitation token names (those that name none belong to the
    installation's): the list form of ``Scope.sees_municipality``."""
    own = m.Citizen.municipality == scope.only_municipality
    return or_(own, m.Citizen.municipality.is_(None)) if scope.sees_records_without_municipality else own


async def board_column(session: AsyncSession, status: str, *, limit: int, narrow_to_botilbud: bool = False,
                       botilbud_id: str | None = None,
                       scope: Scope | None = None) -> tuple[list[tuple[m.VisitationCase, str | None]], int]:
    """The newest cases in one status (with the citizen's name) and how many there are in all;
    ``narrow_to_botilbud`` narrows both to the cases for ``botilbud_id``, ``scope`` to the cases of
    the municipality a visitation token names (the same rule as the single read)."""
    query = select(m.VisitationCase, m.Citizen.name).join(
        m.Citizen, m.Citizen.id == m.VisitationCase.citizen_id, isouter=True
    ).where(m.VisitationCase.status == status)
    count_query = select(func.count()).select_from(m.VisitationCase).join(
        m.Citizen, m.Citizen.id == m.VisitationCase.citizen_id, isouter=True
    ).where(m.VisitationCase.status == status)
    if scope is not None and scope.only_municipality is not None:
        own = _citizens_of_municipality(scope)
        query, count_query = query.where(own), count_query.where(own)
    if narrow_to_botilbud:
        query = query.where(m.VisitationCase.botilbud_id == botilbud_id)
        count_query = count_query.where(m.VisitationCase.botilbud_id == botilbud_id)
    rows = [(case, name) for case, name in (await session.execute(
        query.order_by(m.VisitationCase.updated_at.desc()).limit(limit)
    )).all()]
    total = (await session.execute(count_query)).scalar_one()
    return rows, total


# ---------------------------------------------------------------- partner subscriptions


def add_subscription(uow: UnitOfWork, *, partner_org: str, created_by: str, callback_url: str,
                     event_types: list[str], encrypted_secret: str, payload: str = "cloudevent") -> m.Subscription:
    """A new subscription, written with the commit's one write (its receipt is all the request reads)."""
    sub = m.Subscription(id=uuid.uuid4(), partner_org=partner_org, created_by=created_by, callback_url=callback_url,
                         event_types=event_types, secret=encrypted_secret, active=True, payload=payload)
    uow.add_at_commit(sub)
    return sub


async def get_subscription(session: AsyncSession, subscription_id: uuid.UUID, *, lock: bool = False) -> m.Subscription | None:
    return await session.get(m.Subscription, subscription_id, with_for_update=lock)


async def subscriptions_of(session: AsyncSession, partner_org: str) -> list[m.Subscription]:
    result = await session.execute(
        select(m.Subscription).where(m.Subscription.partner_org == partner_org).order_by(m.Subscription.created_at)
    )
    return list(result.scalars())


async def subscriptions_wanting(uow: UnitOfWork, event_type: str) -> list[uuid.UUID]:
    """The active subscriptions that include ``event_type``; asked once per event type in a consumer
    batch (a subscription registered meanwhile counts from the next batch, milliseconds later)."""
    key = ("subscriptions", event_type)
    if key not in uow.looked_up:
        result = await uow.session.execute(select(m.Subscription.id).where(
            m.Subscription.active.is_(True), m.Subscription.event_types.contains([event_type])))
        uow.looked_up[key] = list(result.scalars())
    return uow.looked_up[key]


# ---------------------------------------------------------------- deliveries and their attempt log


async def queue_delivery(session: AsyncSession, *, subscription_id: uuid.UUID, event_id: str, event_type: str,
                         citizen_id: uuid.UUID, body: str, at: datetime) -> None:
    """A pending delivery, unless this subscription already has one for this event."""
    await session.execute(
        insert(m.Delivery)
        .values(id=uuid.uuid4(), subscription_id=subscription_id, event_id=event_id, event_type=event_type,
                citizen_id=citizen_id, body=body, status="pending", attempts=0, next_attempt_at=at)
        .on_conflict_do_nothing(constraint="uq_delivery_subscription_event")
    )


async def get_delivery(session: AsyncSession, delivery_id: uuid.UUID, *, lock: bool = False) -> m.Delivery | None:
    return await session.get(m.Delivery, delivery_id, with_for_update=lock)


async def deliveries_of(session: AsyncSession, subscription_id: uuid.UUID, *, status: str | None,
                        before: datetime | None, limit: int) -> list[m.Delivery]:
    """A subscription's deliveries, newest first."""
    query = select(m.Delivery).where(m.Delivery.subscription_id == subscription_id)
    if status:
        query = query.where(m.Delivery.status == status)
    if before:
        query = query.where(m.Delivery.created_at < before)
    return list((await session.execute(query.order_by(m.Delivery.created_at.desc()).limit(limit))).scalars())


async def attempts_of(session: AsyncSession, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[m.DeliveryAttempt]]:
    """Each delivery's attempts in order (an empty list for a delivery without any)."""
    attempts: dict[uuid.UUID, list[m.DeliveryAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    if delivery_ids:
        for attempt in (await session.execute(
            select(m.DeliveryAttempt).where(m.DeliveryAttempt.delivery_id.in_(delivery_ids))
            .order_by(m.DeliveryAttempt.at, m.DeliveryAttempt.id)
        )).scalars():
            attempts[attempt.delivery_id].append(attempt)
    return attempts


async def deliveries_to_resend(session: AsyncSession, subscription_id: uuid.UUID, *,
                               delivery_ids: list[uuid.UUID] | None, event_ids: list[str] | None) -> list[m.Delivery]:
    """The named deliveries (by delivery or event id), or else every dead and withheld one; locked."""
    query = select(m.Delivery).where(m.Delivery.subscription_id == subscription_id)
    if delivery_ids:
        query = query.where(m.Delivery.id.in_(delivery_ids))
    elif event_ids:
        query = query.where(m.Delivery.event_id.in_(event_ids))
    else:
        query = query.where(m.Delivery.status.in_(("dead", "withheld")))
    return list((await session.execute(query.with_for_update())).scalars())


async def due_deliveries(session: AsyncSession, now: datetime, limit: int) -> list[m.Delivery]:
    """Pending and retrying deliveries whose time has come, locked; rows another worker holds are skipped."""
    result = await session.execute(
        select(m.Delivery).where(m.Delivery.status.in_(("pending", "retrying")), m.Delivery.next_attempt_at <= now)
        .order_by(m.Delivery.next_attempt_at).limit(limit).with_for_update(skip_locked=True)
    )
    return list(result.scalars())


def add_attempt(session: AsyncSession, delivery_id: uuid.UUID, *, at: datetime, outcome: str, status_code: int | None = None,
                error: str | None = None, duration_ms: int | None = None) -> None:
    session.add(m.DeliveryAttempt(delivery_id=delivery_id, at=at, outcome=outcome, status_code=status_code, error=error,
                                  duration_ms=duration_ms))


# ---------------------------------------------------------------- the citizen list


async def list_citizens(session: AsyncSession, *, botilbud_id: str | None, staff_id: str | None, everyone: bool,
                        tovholder_sub: str | None, only_network: bool, name_like: str | None, now: datetime,
                        limit: int, offset: int, scope: Scope | None = None) -> list[tuple[m.Citizen, int, int]]:
    """Citizens with (open tasks, overdue tasks), by name. Visible: ``everyone`` (within the municipality a
    visitation ``scope`` names), or at ``botilbud_id`` or with ``staff_id`` in their network;
    ``only_network`` narrows to the network (and, with ``tovholder_sub``, those who chose that tovholder)."""
    network = select(m.NetworkMember.citizen_id).where(m.NetworkMember.staff_id == staff_id)
    query = select(m.Citizen).where(m.Citizen.deceased_at.is_(None))
    if everyone and scope is not None and scope.only_municipality is not None:
        query = query.where(_citizens_of_municipality(scope))
    if not everyone:
        visible = [m.Citizen.id.in_(network)] if staff_id else []
        if botilbud_id:
            visible.append(m.Citizen.botilbud_id == botilbud_id)
        query = query.where(or_(*visible) if visible else false())
    if only_network:
        mine = [m.Citizen.id.in_(network)]
        if tovholder_sub:
            mine.append(m.Citizen.tovholder_sub == tovholder_sub)
        query = query.where(or_(*mine))
    if name_like:
        escaped = name_like.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(m.Citizen.name.ilike(f"%{escaped}%", escape="\\"))
    citizens = query.order_by(m.Citizen.name, m.Citizen.id).limit(limit).offset(offset).subquery("citizens")
    open_tasks = func.count(m.Task.id).filter(m.Task.status.in_(ACTIVE))
    overdue = func.count(m.Task.id).filter(m.Task.status.in_(ACTIVE), m.Task.due_at < now)
    shown = aliased(m.Citizen, citizens)
    rows = await session.execute(
        select(shown, open_tasks, overdue).outerjoin(m.Task, m.Task.citizen_id == shown.id)
        .group_by(*citizens.c).order_by(shown.name, shown.id))
    return [(citizen, int(o), int(late)) for citizen, o, late in rows.all()]


# ---------------------------------------------------------------- FHIR R4 read API (services/notifications/fhir)


async def tasks_for_fhir(session: AsyncSession, *, citizen_id: uuid.UUID | None, owner: str | None,
                         limit: int = 1000) -> list[m.Task]:
    """A citizen's tasks and/or one owner's, newest change first (no lock: a read)."""
    query = select(m.Task)
    if citizen_id is not None:
        query = query.where(m.Task.citizen_id == citizen_id)
    if owner is not None:
        query = query.where(m.Task.owner == owner)
    return list((await session.execute(query.order_by(m.Task.updated_at.desc(), m.Task.id).limit(limit))).scalars())
