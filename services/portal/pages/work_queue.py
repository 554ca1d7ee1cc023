"""The front page and Arbejdskø: the queue, its live refresh (notifications' stream relayed) and the task actions."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from services.portal import services as sl
from services.portal.domain import words
from services.portal.domain.queue import ACTIONS, DUE_CHOICES, PRIORITIES, QueueChoice, parse_choice
from services.portal.domain.redirects import safe_next
from services.portal.pages.common import (MESSAGES, ctx_of, expired, query_of, render, signed_in, to_sign_in, today,
                                          with_message)

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- pages


@router.get("/", response_class=HTMLResponse)
async def front_page(request: Request, besked: str | None = None) -> Response:
    user = await signed_in(request)
    if user is None:
        return to_sign_in(request)
    ctx = ctx_of(request)
    data = await sl.front_page(ctx.backends, user)
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, "front.html", user=user, besked=MESSAGES.get(besked or ""), **data)




# ---------------------------------------------------------------- the work queue



async def _queue_context(request: Request, user: sl.SignedIn, choice: QueueChoice) -> dict[str, Any] | None:
    data = await sl.work_queue(ctx_of(request).backends, user, choice.api_params(today()))
    if data.pop("signed_out"):
        return None
    return {**data, "choice": choice, "due_choices": DUE_CHOICES, "priorities": PRIORITIES,
            "updated": datetime.now(words.COPENHAGEN).strftime("%H:%M:%S"), "user": user,
            "poll_s": int(ctx_of(request).config.queue_poll_interval_s)}


@router.get("/arbejdsko", response_class=HTMLResponse)
async def work_queue(request: Request, besked: str | None = None) -> Response:
    user = await signed_in(request)
    if user is None:
        return to_sign_in(request)
    if not user.is_staff:
        return render(request, "error.html", 403, user=user, besked="Arbejdskøen er for medarbejdere.")
    choice = parse_choice(request.query_params)
    context = await _queue_context(request, user, choice)
    if context is None:
        return await expired(request)
    return render(request, "work_queue.html", besked=MESSAGES.get(besked or ""), **context)


@router.get("/arbejdsko/tabel", response_class=HTMLResponse)
async def work_queue_table(request: Request) -> Response:
    """The queue's table alone: what the page swaps in when the queue changed (or every poll_s)."""
    user = await signed_in(request)
    if user is None or not user.is_staff:
        return HTMLResponse("", status_code=401)
    context = await _queue_context(request, user, parse_choice(request.query_params))
    if context is None:
        return HTMLResponse("", status_code=401)
    return render(request, "_queue_table.html", **context)


@router.get("/arbejdsko/live")
async def work_queue_live(request: Request) -> Response:
    """notifications' stream of my queue's changes, relayed (the browser never holds a token): an event
    ``queue-changed`` whenever the page would change; ``unavailable`` when notifications cannot be reached
    (the page then keeps polling)."""
    user = await signed_in(request)
    if user is None or not user.is_staff:
        return Response(status_code=401)
    params = parse_choice(request.query_params).api_params(today())
    params.pop("cursor", None)
    backends = ctx_of(request).backends

    async def relay():
        yield b"retry: 5000\n\n"
        try:
            async with backends.stream("notifications", "/api/v1/work-queue/events", user.token, params) as upstream:
                if upstream.status_code != 200:
                    yield b"event: unavailable\ndata: {}\n\n"
                    return
                event = None
                async for line in upstream.aiter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "queue-changed":
                        fingerprint = str(json.loads(line[5:]).get("fingerprint", ""))[:64]
                        yield f"event: queue-changed\ndata: {json.dumps(fingerprint)}\n\n".encode()
                    elif line.startswith(":"):
                        yield b": ping\n\n"
        except httpx.HTTPError as error:
            log.info("work-queue stream from notifications ended: %s", type(error).__name__)
            yield b"event: unavailable\ndata: {}\n\n"

    return StreamingResponse(relay(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})


@router.post("/opgaver/{task_id}/{action}")
async def task_action(request: Request, task_id: uuid.UUID, action: str, csrf: str = Form(None),
                      note: str = Form(None), tilbage: str = Form("/arbejdsko")) -> Response:
    user = await signed_in(request)
    if user is None:
        return to_sign_in(request)
    back = safe_next(tilbage, "/arbejdsko")
    if not user.csrf_ok(csrf):
        return RedirectResponse(with_message(back, "forkert-formular"), status_code=303)
    if action not in ACTIONS:
        return render(request, "error.html", 404, user=user, besked="Den handling findes ikke.")
    reply = await sl.task_action(ctx_of(request).backends, user, str(task_id), action, (note or "").strip() or None)
    if reply.signed_out:
        return await expired(request)
    if not reply.ok:
        choice = parse_choice(dict(query_of(back)))
        context = await _queue_context(request, user, choice)
        if context is None:
            return await expired(request)
        return render(request, "work_queue.html", reply.status or 502, fejl=reply.problem, **context)
    return RedirectResponse(with_message(back, f"opgave-{action}"), status_code=303)
