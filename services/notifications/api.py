"""Notifications' JSON routes, thin (parse → one use case in ``services.py`` → a response model):

- ``work`` (``/api/v1``, staff token): the work queue (spec §3) with filters and keyset pagination,
  task details and transitions, a citizen's timeline, the visitation board and notices;
- ``partner`` (``/integration/v1``, partner token with ``org``, spec §4): register a callback, the
  event types, list and stop subscriptions, the delivery log, resend.

The staff pages are ``pages.py``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from collections.abc import AsyncIterable

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from services.notifications import services as sl
from services.notifications.domain.queue import parse_filter
from services.notifications.fhir.api import router as fhir_router
from services.notifications.main import Config
from services.notifications.pages import pages
from services.notifications.schemas import (
    CitizenReferenceIn,
    CitizenReferenceOut,
    BusinessStatusIn,
    CitizenListItemOut,
    CitizenOverviewOut,
    CompleteIn,
    DeliveriesOut,
    EventTypeOut,
    NoticeOut,
    QueueChangeOut,
    ResendIn,
    ResendOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionReceipt,
    TaskDetailOut,
    TaskKindOut,
    TaskOut,
    VisitationBoardOut,
)
from tovholder.auth import PartnerUser, StaffUser
from tovholder.errors import ErrorBody
from tovholder.scopes import serving_municipality
from tovholder.service import Ctx, UoW

work = APIRouter(prefix="/api/v1", tags=["work queue"])


@work.get(
    "/work-queue",
    response_model=list[TaskOut],
    summary="My open tasks and the unclaimed tasks in my pools",
    description=(
        "Tasks assigned to the caller plus unclaimed open tasks in the pools the caller's role and botilbud may "
        "claim, ordered by due time (tasks without one last). Filters: `kind`, `citizen_id`, `due_before`, "
        "`due_after` (ISO date or datetime; a date means that Danish day), `overdue` (true/false), `priority` "
        "(routine/urgent/asap). Pagination: "
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
    priority: str | None = None,
    limit: int | None = Query(None),
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    queue_filter = _queue_filter(kind=kind, citizen_id=citizen_id, due_before=due_before, due_after=due_after,
                                 overdue=overdue, priority=priority, limit=limit, cursor=cursor)
    page = await sl.read_work_queue(uow, user, queue_filter)
    if page.next_cursor:
        response.headers["X-Next-Cursor"] = page.next_cursor
        next_url = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return page.tasks


def _queue_filter(*, limit: int | None = None, **params: str | None):
    return parse_filter({**params, "limit": str(limit) if limit is not None else None})


def stream_filter(
    kind: str | None = None, citizen_id: str | None = None, due_before: str | None = None,
    due_after: str | None = None, overdue: str | None = None, priority: str | None = None,
    limit: int | None = Query(None),
):
    """The queue filter of a stream, checked before the stream starts (a bad filter is a 422, not a cut stream)."""
    return _queue_filter(kind=kind, citizen_id=citizen_id, due_before=due_before, due_after=due_after,
                         overdue=overdue, priority=priority, limit=limit)


@work.get(
    "/work-queue/events",
    response_class=EventSourceResponse,
    response_model=QueueChangeOut,
    summary="My work queue's changes as server-sent events (text/event-stream)",
    description=(
        "The same caller, scope and filters as `GET /api/v1/work-queue` (`kind`, `citizen_id`, `due_before`, "
        "`due_after`, `overdue`, `priority`, `limit`). An event `queue-changed` comes at once and again whenever "
        "the page that request would return changes; then read the page. Comments keep the connection open; "
        "the stream ends after a while (reconnect: browsers' EventSource does so by itself)."
    ),
)
async def work_queue_events(
    user: StaffUser, ctx: Ctx, config: Config, queue_filter: Annotated[Any, Depends(stream_filter)],
) -> AsyncIterable[ServerSentEvent]:
    async for change in sl.watch_work_queue(ctx.uow, user, queue_filter, interval_s=config.queue_stream_interval_s,
                                            max_s=config.queue_stream_max_s):
        yield ServerSentEvent(data=QueueChangeOut(**change), event="queue-changed", id=change["fingerprint"], retry=3000)


@work.get("/task-kinds", response_model=list[TaskKindOut], summary="The kinds of task, with their Danish names")
async def task_kinds(user: StaffUser) -> list[dict[str, str]]:
    return sl.task_kinds()


@work.get("/tasks/{task_id}", response_model=TaskDetailOut, summary="One task with the history of every change")
async def get_task(task_id: uuid.UUID, user: StaffUser, uow: UoW) -> dict[str, Any]:
    return await sl.task_with_history(uow, user, task_id)


@work.post("/tasks/{task_id}/claim", response_model=TaskOut, summary="Take a task from a pool (or acknowledge a task named to you)")
async def claim(task_id: uuid.UUID, user: StaffUser, uow: UoW, config: Config) -> dict[str, Any]:
    return await sl.change_task(uow, user, task_id, "claim", config=config)


@work.post("/tasks/{task_id}/start", response_model=TaskOut, summary="Mark a task of yours as in progress")
async def start(task_id: uuid.UUID, user: StaffUser, uow: UoW, config: Config) -> dict[str, Any]:
    return await sl.change_task(uow, user, task_id, "start", config=config)


@work.post("/tasks/{task_id}/release", response_model=TaskOut, summary="Put a claimed task back in its pool")
async def release(task_id: uuid.UUID, user: StaffUser, uow: UoW, config: Config) -> dict[str, Any]:
    return await sl.change_task(uow, user, task_id, "release", config=config)


@work.post("/tasks/{task_id}/complete", response_model=TaskOut, summary="Mark a task done (optionally with a short note)")
async def complete(
    task_id: uuid.UUID, user: StaffUser, uow: UoW, config: Config, body: CompleteIn | None = None
) -> dict[str, Any]:
    note = body.note if body else None
    return await sl.change_task(uow, user, task_id, "complete", config=config, note=note)


@work.post("/tasks/{task_id}/business-status", response_model=TaskOut, summary="Set your own short status on a task of yours")
async def business_status(task_id: uuid.UUID, body: BusinessStatusIn, user: StaffUser, uow: UoW, config: Config) -> dict[str, Any]:
    return await sl.change_task(uow, user, task_id, "business-status", config=config, note=body.business_status)


@work.get("/citizens", response_model=list[CitizenListItemOut],
          summary="The citizens I may see, by name, with their open and overdue tasks",
          description="`q`: part of the name; `mine=true`: those whose network I am in (a nurse consultant: also "
                      "those who chose me as tovholder); `limit` (1–200, default 50), `offset`.")
async def citizens(
    user: StaffUser, uow: UoW, ctx: Ctx, q: str | None = Query(None, max_length=100), mine: bool = False,
    limit: int = Query(50, ge=1, le=sl.CITIZEN_LIST_MAX), offset: int = Query(0, ge=0, le=100_000),
) -> list[dict[str, Any]]:
    return await sl.list_citizens(uow, user, q=q, mine=mine, limit=limit, offset=offset,
                                  serving=serving_municipality(ctx.settings))


@work.get("/citizens/{citizen_id}/timeline", response_model=CitizenOverviewOut, summary="The citizen's timeline across the services, and their tasks")
async def citizen_timeline(citizen_id: uuid.UUID, user: StaffUser, uow: UoW, ctx: Ctx) -> dict[str, Any]:
    return await sl.citizen_overview(uow, user, citizen_id, serving=serving_municipality(ctx.settings))


@work.get("/visitation-board", response_model=VisitationBoardOut, summary="Visitation cases by status")
async def visitation_board(user: StaffUser, uow: UoW, ctx: Ctx) -> dict[str, Any]:
    return await sl.visitation_board(uow, user, serving=serving_municipality(ctx.settings))


@work.get("/notices", response_model=list[NoticeOut], summary="My reminders and escalation notices (newest first)")
async def notices(user: StaffUser, uow: UoW, since: datetime | None = None) -> list[dict[str, Any]]:
    return await sl.my_notices(uow, user, since)


# ---------------------------------------------------------------- partner API (spec §4)

partner_api = APIRouter(prefix="/integration/v1", tags=["partner subscriptions"])


@partner_api.post(
    "/subscriptions",
    status_code=202,
    response_model=SubscriptionReceipt,
    responses={422: {"model": SubscriptionReceipt, "description": "fatal-error: the reason says what to fix"},
               409: {"model": SubscriptionReceipt, "description": "fatal-error: the message_id was used for another body"},
               503: {"model": SubscriptionReceipt, "description": "transient-error: nothing stored; retry"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": SubscriptionIn.model_json_schema()}}}},
    summary="Register a callback URL for event types, with a shared secret for the signature",
    description=(
        "Body: `callback_url` (https to a public host; its host is resolved now and before every delivery, and every "
        "address must be public), `event_types` (a list of CloudEvents types, see `GET /integration/v1/event-types`), "
        "`secret` (≥ 32 characters) and optionally `message_id`. Answer: a receipt with `subscription_id`. Every "
        "delivery is a structured-JSON CloudEvent signed with `X-Tovholder-Signature: sha256=<hex HMAC-SHA256 of the "
        "body with the secret>` and the Standard Webhooks headers `webhook-id`, `webhook-timestamp` and "
        "`webhook-signature` (`v1,<base64 HMAC-SHA256 of \"id.timestamp.body\">`)."
    ),
)
async def subscribe(request: Request, partner: PartnerUser, uow: UoW, ctx: Ctx):
    # The raw body: the use case reads it like every partner endpoint (a receipt for any body).
    return await sl.subscribe(uow, partner, await request.body(),
                              allow_loopback=ctx.settings.webhook_allow_loopback, box=ctx.secret_box())


@partner_api.post("/citizen-references", response_model=CitizenReferenceOut,
                  # Not a partner message: its errors are the kit's error bodies, not receipts.
                  responses={status: {"model": ErrorBody} for status in (409, 422, 503)},
                  summary="The reference deliveries to your organisation name a citizen by, for a CPR you hold "
                          "(only with the citizen's consent or a legal basis; audited)")
async def post_citizen_reference(body: CitizenReferenceIn, partner: PartnerUser, uow: UoW, ctx: Ctx) -> dict[str, Any]:
    return await sl.issue_citizen_reference(uow, partner, body.cpr, vault=ctx.cpr_vault())


@partner_api.get("/event-types", response_model=list[EventTypeOut], summary="The event types a partner may subscribe to, with their consent category")
async def event_types(partner: PartnerUser) -> list[dict[str, Any]]:
    return sl.event_types_for(partner)


@partner_api.get("/subscriptions", response_model=list[SubscriptionOut], summary="My organisation's subscriptions")
async def list_subscriptions(partner: PartnerUser, uow: UoW) -> list[dict[str, Any]]:
    return await sl.list_subscriptions(uow, partner)


@partner_api.delete("/subscriptions/{subscription_id}", response_model=SubscriptionOut, summary="Stop a subscription (its delivery log is kept)")
async def stop_subscription(subscription_id: uuid.UUID, partner: PartnerUser, uow: UoW) -> dict[str, Any]:
    return await sl.stop_subscription(uow, partner, subscription_id)


@partner_api.get("/subscriptions/{subscription_id}/deliveries", response_model=DeliveriesOut, summary="Each delivery's status and attempt log")
async def deliveries(
    subscription_id: uuid.UUID, partner: PartnerUser, uow: UoW,
    status: str | None = None, limit: int = Query(100, ge=1, le=500), before: datetime | None = None,
) -> dict[str, Any]:
    return await sl.delivery_log(uow, partner, subscription_id, status=status, limit=limit, before=before)


@partner_api.post(
    "/subscriptions/{subscription_id}/resend",
    status_code=202,
    response_model=ResendOut,
    summary="Deliver again",
    description=(
        "Body (optional): `delivery_ids` or `event_ids` to resend those; without either, every dead-lettered "
        "and withheld delivery of the subscription is queued again. The consent check runs again at delivery."
    ),
)
async def resend(
    subscription_id: uuid.UUID, partner: PartnerUser, uow: UoW, body: ResendIn | None = None
) -> dict[str, Any]:
    body = body or ResendIn()
    return await sl.resend(uow, partner, subscription_id, delivery_ids=body.delivery_ids, event_ids=body.event_ids)


routers = [work, partner_api, pages, fhir_router]
