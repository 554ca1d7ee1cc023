"""The citizen's own pages (issue 13): Min plan, Min sag, Mit netværk, Mine samtykker, Min FIT, Min log.

Thin like every page module: who is signed in (a citizen, else a Danish 403), one use case in
``services.portal.services.citizen``, one template under ``templates/borger/``. Every form carries the
session's CSRF token; after a change the page redirects to itself with a message key (never text).
"""

from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal import services as sl
from services.portal.backends import Reply
from services.portal.domain import citizen_words as cw
from services.portal.pages.common import ctx_of, expired, page_user, render, with_message
from services.portal.services import citizen as uc

router = APIRouter(include_in_schema=False)
REFUSAL = "Siden er for borgere: her ser du dine egne oplysninger."


async def _citizen(request: Request) -> sl.SignedIn | Response:
    # Min log refused is the log's own refusal, as in the services (``access-log.refused``).
    action = "access-log.refused" if request.url.path == "/min-log" else None
    return await page_user(request, roles=("citizen",), refusal=REFUSAL, audit_action=action)


async def _show(request: Request, template: str, load: Callable[..., Awaitable[dict[str, Any]]], *,
                status: int = 200, fejl: str | None = None, **extra: Any) -> Response:
    user = await _citizen(request)
    if not isinstance(user, sl.SignedIn):
        return user
    data = await load(ctx_of(request).backends, user)
    if data.pop("signed_out"):
        return await expired(request)
    besked = cw.MESSAGES.get(request.query_params.get("besked") or "")
    return render(request, template, status, user=user, besked=besked, fejl=fejl, words=cw, **data, **extra)


async def _change(request: Request, csrf: str | None, back: str, done: str, template: str, load,
                  act: Callable[[sl.SignedIn], Awaitable[Reply]], **extra: Any) -> Response:
    """A form's change: CSRF checked, the service asked; on a refusal the page again with the Danish reason."""
    user = await _citizen(request)
    if not isinstance(user, sl.SignedIn):
        return user
    if not user.csrf_ok(csrf):
        return RedirectResponse(with_message(back, "forkert-formular"), status_code=303)
    reply = await act(user)
    if reply.signed_out:
        return await expired(request)
    if not reply.ok:
        status = reply.status if reply.status and 400 <= reply.status < 500 else 502
        return await _show(request, template, load, status=status, fejl=reply.problem, **extra)
    return RedirectResponse(with_message(back, done), status_code=303)


def _text(value: str | None, limit: int = 4000) -> str:
    return (value or "").strip()[:limit]


# ---------------------------------------------------------------- Min plan


def _plan_loader(request: Request):
    """Min plan's data, with staff named instead of ids."""
    async def load(backends, user):
        data = await uc.my_plan(backends, user)
        ctx = ctx_of(request)
        async with ctx.uow() as uow:
            data["staff"] = await sl.staff_names(uow, uc.plan_authors(data["plan"].data), demo=ctx.demo_sign_in)
        return data

    return load


@router.get("/min-plan", response_class=HTMLResponse)
async def my_plan(request: Request) -> Response:
    return await _show(request, "borger/plan.html", _plan_loader(request))


@router.post("/min-plan/syn")
async def add_perspective(request: Request, csrf: str = Form(None), text: str = Form(""),
                          goal_id: str = Form("")) -> Response:
    return await _change(request, csrf, "/min-plan", "perspektiv-gemt", "borger/plan.html",
                         _plan_loader(request),
                         lambda user: uc.add_plan_entry(ctx_of(request).backends, user, kind="citizen-perspective",
                                                        text=_text(text), goal_id=_uuid(goal_id), replies_to=None))


@router.post("/min-plan/kommentar")
async def add_comment(request: Request, csrf: str = Form(None), text: str = Form(""), goal_id: str = Form(""),
                      replies_to: str = Form("")) -> Response:
    return await _change(request, csrf, "/min-plan", "kommentar-gemt", "borger/plan.html",
                         _plan_loader(request),
                         lambda user: uc.add_plan_entry(ctx_of(request).backends, user, kind="citizen-comment",
                                                        text=_text(text), goal_id=_uuid(goal_id),
                                                        replies_to=_uuid(replies_to)))


@router.post("/min-plan/maal")
async def propose_goal(request: Request, csrf: str = Form(None), text: str = Form(""),
                       kind: str = Form("develop")) -> Response:
    kind = kind if kind in cw.GOAL_KINDS else "develop"
    return await _change(request, csrf, "/min-plan", "maal-gemt", "borger/plan.html", _plan_loader(request),
                         lambda user: uc.propose_goal(ctx_of(request).backends, user, text=_text(text), kind=kind))


def _uuid(value: str | None) -> str | None:
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


# ---------------------------------------------------------------- Min sag


@router.get("/min-sag", response_class=HTMLResponse)
async def my_case(request: Request) -> Response:
    return await _show(request, "borger/sag.html", uc.my_case)


# ---------------------------------------------------------------- Mit netværk


@router.get("/mit-netvaerk", response_class=HTMLResponse)
async def my_network(request: Request) -> Response:
    return await _show(request, "borger/netvaerk.html", uc.my_network)


@router.post("/mit-netvaerk/moede")
async def call_meeting(request: Request, csrf: str = Form(None), reason: str = Form(""),
                       wanted: list[str] = Form([]), others: str = Form("")) -> Response:
    people = [_text(w, 200) for w in wanted[:12]] + [_text(o, 200) for o in others.split(",")]
    return await _change(request, csrf, "/mit-netvaerk", "moede-bedt", "borger/netvaerk.html", uc.my_network,
                         lambda user: uc.call_meeting(ctx_of(request).backends, user, reason=_text(reason, 2000),
                                                      wanted=[p for p in people if p][:12]))


@router.post("/mit-netvaerk/tovholder")
async def choose_tovholder(request: Request, csrf: str = Form(None), nurse: str = Form("")) -> Response:
    return await _change(request, csrf, "/mit-netvaerk", "tovholder-skiftet", "borger/netvaerk.html", uc.my_network,
                         lambda user: uc.choose_tovholder(ctx_of(request).backends, user, _text(nurse, 200)))


# ---------------------------------------------------------------- Mine samtykker


@router.get("/mine-samtykker", response_class=HTMLResponse)
async def my_consents(request: Request) -> Response:
    return await _show(request, "borger/samtykker.html", uc.my_consents)


@router.post("/mine-samtykker")
async def give_consent(request: Request, csrf: str = Form(None), recipient_id: str = Form(""),
                       recipient_name: str = Form(""), category: str = Form("")) -> Response:
    return await _change(request, csrf, "/mine-samtykker", "samtykke-givet", "borger/samtykker.html", uc.my_consents,
                         lambda user: uc.give_consent(ctx_of(request).backends, user, recipient_kind="organisation",
                                                      recipient_id=_text(recipient_id, 200),
                                                      recipient_name=_text(recipient_name, 200),
                                                      category=_text(category, 40)))


@router.post("/mine-samtykker/{consent_id}/traek-tilbage")
async def withdraw_consent(request: Request, consent_id: uuid.UUID, csrf: str = Form(None)) -> Response:
    return await _change(request, csrf, "/mine-samtykker", "samtykke-traekket", "borger/samtykker.html",
                         uc.my_consents,
                         lambda user: uc.withdraw_consent(ctx_of(request).backends, user, str(consent_id)))


# ---------------------------------------------------------------- Min FIT


@router.get("/min-fit", response_class=HTMLResponse)
async def my_fit(request: Request) -> Response:
    return await _show(request, "borger/fit.html", uc.my_fit)


@router.get("/min-fit/graf.svg")
async def my_fit_chart(request: Request) -> Response:
    """The trend as an image (pygal's SVG carries its own styles; as an image it runs no script)."""
    user = await _citizen(request)
    if not isinstance(user, sl.SignedIn):
        return Response(status_code=401)
    data = await uc.my_fit(ctx_of(request).backends, user)
    if data["fit"].problem or not data["fit"].data:
        return Response(status_code=503)
    svg = uc.fit_chart_svg(data["fit"].data)
    return Response(svg, media_type="image/svg+xml", headers={
        "cache-control": "no-store", "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'"})


@router.post("/min-fit/{session_id}/deling")
async def share_fit(request: Request, session_id: uuid.UUID, csrf: str = Form(None), del_: str = Form("", alias="del")) -> Response:
    shared = del_ == "ja"
    return await _change(request, csrf, "/min-fit", "fit-delt" if shared else "fit-ikke-delt", "borger/fit.html",
                         uc.my_fit, lambda user: uc.share_fit(ctx_of(request).backends, user, str(session_id), shared))


# ---------------------------------------------------------------- Min log


@router.get("/min-log", response_class=HTMLResponse)
async def my_log(request: Request, tjeneste: str = "", periode: str = "", foer: str = "", mine: str = "") -> Response:
    tjeneste = tjeneste if tjeneste in uc.SERVICES else ""
    periode = periode if periode in cw.LOG_PERIODS else ""
    skjul = mine == "skjul"

    async def load(backends, user):
        return await uc.my_log(backends, user, service=tjeneste, period=periode, before=foer[:120] or None,
                               hide_mine=skjul)

    return await _show(request, "borger/log.html", load, tjeneste=tjeneste, periode=periode, foer=foer[:120],
                       skjul=skjul)
