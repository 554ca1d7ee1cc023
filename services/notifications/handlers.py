"""Notifications' event handlers: events become tasks in work queues."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from contracts.notifications import TaskCreatedV1
from contracts.referrals import VisitationDecidedV1
from tovholder.messaging import EventMeta, EventRouter
from tovholder.uow import UnitOfWork
from services.notifications.models import Task, TaskChange

events = EventRouter()


@events.handles(VisitationDecidedV1)
async def first_network_meeting(event: VisitationDecidedV1, meta: EventMeta, uow: UnitOfWork) -> None:
    """A granted place: the botilbud's coordinators plan the first network meeting with the citizen."""
    if event.decision != "granted" or not event.botilbud_id:
        return
    now = datetime.now(timezone.utc)
    task = Task(
        id=uuid.uuid4(), citizen_id=event.citizen_id, kind="first-network-meeting",
        title="Planlæg første netværksmøde med borgeren", status="open", priority="routine",
        due_at=now + timedelta(days=14), pool_role="coordinator", pool_botilbud=event.botilbud_id,
        source_event_id=meta.event_id, links={"referral_id": str(event.referral_id)},
    )
    uow.session.add(task)
    uow.session.add(TaskChange(task_id=task.id, by="system", change="created", note=meta.event_type))
    uow.emit(TaskCreatedV1(citizen_id=event.citizen_id, task_id=task.id, kind=task.kind,
                           source_event_id=meta.event_id, created_at=now))
