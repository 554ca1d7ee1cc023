"""Borgere (the citizen list with badges) and Borgeroverblik (one page per citizen)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.portal import services as sl
from services.portal.pages.common import ctx_of, expired, render, signed_in, to_sign_in

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- Borgere and Borgeroverblik


@router.get("/borgere", response_class=HTMLResponse)
async def citizens(request: Request, q: str = "", vis: str = "", fra: int = 0) -> Response:
    user = await signed_in(request)
    if user is None:
        return to_sign_in(request)
    if not user.is_staff:
        return render(request, "error.html", 403, user=user, besked="Borgerlisten er for medarbejdere.")
    # Everyone starts with all the citizens they may see; "mine" narrows to their networks (and tovholder).
    mine = vis == "mine"
    q, fra = q.strip()[:100], max(0, min(fra, 100_000))
    data = await sl.citizen_list(ctx_of(request).backends, user, q=q, mine=mine, offset=fra)
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, "citizens.html", user=user, q=q, mine=mine, fra=fra, **data)


@router.get("/borgere/{citizen_id}/maerker", response_class=HTMLResponse)
async def citizen_badges(request: Request, citizen_id: uuid.UUID) -> Response:
    """One card's badges (the list asks for them when the card comes into view)."""
    user = await signed_in(request)
    if user is None or not user.is_staff:
        return HTMLResponse("", status_code=401)
    badges = await sl.citizen_badges(ctx_of(request).backends, user, str(citizen_id))
    return render(request, "_badges.html", user=user, c=badges)


@router.get("/borgere/{citizen_id}", response_class=HTMLResponse)
async def citizen_page(request: Request, citizen_id: uuid.UUID) -> Response:
    user = await signed_in(request)
    if user is None:
        return to_sign_in(request)
    if not user.is_staff:
        return render(request, "error.html", 403, user=user, besked="Borgeroverblikket er for medarbejdere.")
    ctx = ctx_of(request)
    data = await sl.citizen_overview(ctx.backends, user, str(citizen_id))
    if data.pop("signed_out"):
        return await expired(request)
    async with ctx.uow() as uow:
        staff = await sl.staff_names(uow, sl.mentioned_staff(data), demo=ctx.demo_sign_in)
    status = 403 if data["forbidden_overview"] else 200
    return render(request, "citizen.html", status, user=user, citizen_id=str(citizen_id), staff=staff, **data)
