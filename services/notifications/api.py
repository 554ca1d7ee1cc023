"""The staff JSON API: the work queue (spec §3) with filters and keyset pagination, task details and
transitions, a citizen's timeline, the visitation board and notices (reminders, escalations)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from services.notifications import services as sl
from services.notifications.main import Config
from services.notifications.schemas import (
    BusinessStatusIn,
    CitizenOverviewOut,
    CompleteIn,
    NoticeOut,
    TaskDetailOut,
    TaskOut,
    VisitationBoardOut,
)
from services.notifications.domain.errors import InvalidInput
from services.notifications.domain.queue import parse_filter
from services.notifications.integration import integration
from services.notifications.pages import pages
from tovholder.auth import StaffUser
from tovholder.errors import DomainError
from tovholder.service import UoW

work = APIRouter(prefix="/api/v1", tags=["work queue"])


@work.get(
    "/work-queue",
    response_model=list[TaskOut],
    summary="My open tasks and the unclaimed tasks in my pools",
    description=(
        "Tasks assigned to the caller plus unclaimed open tasks in the pools the caller's role and botilbud may "
        "claim, ordered by due time (tasks without one last). Filters: `kind`, `citizen_id`, `due_before`, "
        "`due_after` (ISO date or datetime; a date means that Danish day), `overdue` (true/false). Pagination: "
        "`limit` (1–200, default 50) and `cursor`; the next page's cursor is in the `X-Next-Cursor` header "
        "and in `Link: <…>; rel=\"next\"`."
    ),
)
async def work_queue(
    request: Request,
    response: Response,
    user: StaffUser,
    uow: UoW,
    kind: str | None = None,
    citizen_id: str | None = None,
    due_before: str | None = None,
    due_after: str | None = None,
    overdue: str | None = None,
    limit: int | None = Query(None),
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    try:
        queue_filter = parse_filter({
            "kind": kind, "citizen_id": citizen_id, "due_before": due_before, "due_after": due_after,
            "overdue": overdue, "limit": str(limit) if limit is not None else None, "cursor": cursor,
        })
    except InvalidInput as error:
        raise DomainError(str(error)) from None
    page = await sl.read_work_queue(uow, user, queue_filter)
    if page.next_cursor:
        response.headers["X-Next-Cursor"] = page.next_cursor
        next_url = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    now = sl.now_utc()
    return [sl.task_json(row, now) for row in page.rows]


@work.get("/tasks/{task_id}", response_model=TaskDetailOut, summary="One task with the history of every change")
async def get_task(task_id: uuid.UUID, user: StaffUser, uow: UoW) -> dict[str, Any]:
    return await sl.task_with_history(uow, user, task_id)


@work.post("/tasks/{task_id}/claim", response_model=TaskOut, summary="Take a task from a pool (or acknowledge a task named to you)")
async def claim(task_id: uuid.UUID, user: StaffUser, uow: UoW, config: Config) -> dict[str, Any]:
    return sl.task_json(await sl.change_task(uow, user, task_id, "claim", config=config))


@work.post("/tasks/{task_id}/start", response_model=TaskOut, summary="Mark a task of yours as in progress")
async def start(task_id: uuid.UUID, user: StaffUser, uow: UoW, config: Config) -> dict[str, Any]:
    return sl.task_json(await sl.change_task(uow, user, task_id, "start", config=config))


@work.post("/tasks/{task_id}/release", response_model=TaskOut, summary="Put a claimed task back in its pool")
async def release(task_id: uuid.UUID, user: StaffUser, uow: UoW, config: Config) -> dict[str, Any]:
    return sl.task_json(await sl.change_task(uow, user, task_id, "release", config=config))


@work.post("/tasks/{task_id}/complete", response_model=TaskOut, summary="Mark a task done (optionally with a short note)")
async def complete(
    task_id: uuid.UUID, user: StaffUser, uow: UoW, config: Config, body: CompleteIn | None = None
) -> dict[str, Any]:
    note = body.note if body else None
    return sl.task_json(await sl.change_task(uow, user, task_id, "complete", config=config, note=note))


@work.post("/tasks/{task_id}/business-status", response_model=TaskOut, summary="Set your own short status on a task of yours")
async def business_status(task_id: uuid.UUID, body: BusinessStatusIn, user: StaffUser, uow: UoW, config: Config) -> dict[str, Any]:
    return sl.task_json(await sl.change_task(uow, user, task_id, "business-status", config=config,
                                             note=body.business_status))


@work.get("/citizens/{citizen_id}/timeline", response_model=CitizenOverviewOut, summary="The citizen's timeline across the services, and their tasks")
async def citizen_timeline(citizen_id: uuid.UUID, user: StaffUser, uow: UoW) -> dict[str, Any]:
    return await sl.citizen_overview(uow, user, citizen_id)


@work.get("/visitation-board", response_model=VisitationBoardOut, summary="Visitation cases by status")
async def visitation_board(user: StaffUser, uow: UoW) -> dict[str, Any]:
    return await sl.visitation_board(uow, user)


@work.get("/notices", response_model=list[NoticeOut], summary="My reminders and escalation notices (newest first)")
async def notices(user: StaffUser, uow: UoW, since: datetime | None = None) -> list[dict[str, Any]]:
    return await sl.my_notices(uow, user, since)


routers = [work, integration, pages]
