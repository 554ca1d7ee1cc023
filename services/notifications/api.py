"""The work-queue API (spec §3)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter
from sqlalchemy import and_, or_, select

from contracts.notifications import TaskCompletedV1
from tovholder.auth import StaffUser
from tovholder.errors import DomainError, Forbidden, NotFound
from tovholder.service import UoW
from services.notifications.models import Task, TaskChange

work = APIRouter(prefix="/api/v1", tags=["work queue"])
OPEN_STATUSES = ("open", "claimed", "in_progress")


def task_json(t: Task) -> dict[str, Any]:
    return {
        "task_id": str(t.id), "citizen_id": str(t.citizen_id), "title": t.title, "kind": t.kind,
        "status": t.status, "priority": t.priority, "due_at": t.due_at, "owner": t.owner,
        "pool": {"role": t.pool_role, "botilbud": t.pool_botilbud} if t.pool_role else None,
        "created_at": t.created_at, "source_event_id": t.source_event_id, "links": t.links,
    }


@work.get("/work-queue", summary="My open tasks and the unclaimed tasks in my pools")
async def work_queue(user: StaffUser, uow: UoW) -> list[dict[str, Any]]:
    mine = and_(Task.owner == user.sub, Task.status.in_(OPEN_STATUSES))
    pool = and_(Task.owner.is_(None), Task.status == "open", Task.pool_role == user.role,
                Task.pool_botilbud == user.botilbud)
    rows = (await uow.session.execute(
        select(Task).where(or_(mine, pool)).order_by(Task.due_at.asc().nulls_last(), Task.id).limit(200)
    )).scalars().all()
    return [task_json(t) for t in rows]


async def _task_for_update(uow, task_id: uuid.UUID) -> Task:
    task = await uow.session.get(Task, task_id, with_for_update=True)
    if task is None:
        raise NotFound("No task with that id.")
    return task


@work.post("/tasks/{task_id}/claim", summary="Take a task from a pool")
async def claim(task_id: uuid.UUID, user: StaffUser, uow: UoW) -> dict[str, Any]:
    task = await _task_for_update(uow, task_id)
    if task.owner == user.sub and task.status in OPEN_STATUSES:
        return task_json(task)  # claiming twice is harmless
    if task.owner is not None:
        raise DomainError("Someone else has already claimed this task.")
    if task.status != "open":
        raise DomainError(f"The task is {task.status}; only open tasks can be claimed.")
    if (task.pool_role, task.pool_botilbud) != (user.role, user.botilbud):
        raise Forbidden("This task is in a pool you are not part of.")
    task.owner, task.status = user.sub, "claimed"
    uow.session.add(TaskChange(task_id=task.id, by=user.sub, change="claimed"))
    uow.audit(user, "task.claim", citizen_id=task.citizen_id, object_type="task", object_id=task.id)
    await uow.commit()
    return task_json(task)


@work.post("/tasks/{task_id}/complete", summary="Mark a task done")
async def complete(task_id: uuid.UUID, user: StaffUser, uow: UoW) -> dict[str, Any]:
    task = await _task_for_update(uow, task_id)
    if task.status == "done":
        return task_json(task)
    if task.status not in OPEN_STATUSES:
        raise DomainError(f"The task is {task.status} and cannot be completed.")
    if task.owner != user.sub:
        raise Forbidden("Claim the task before completing it." if task.owner is None else "The task belongs to someone else.")
    task.status = "done"
    uow.session.add(TaskChange(task_id=task.id, by=user.sub, change="completed"))
    uow.emit(TaskCompletedV1(citizen_id=task.citizen_id, task_id=task.id, kind=task.kind, completed_by=user.sub,
                             completed_at=datetime.now(timezone.utc)))
    uow.audit(user, "task.complete", citizen_id=task.citizen_id, object_type="task", object_id=task.id)
    await uow.commit()
    return task_json(task)


routers = [work]
