"""Sign-in (the municipality's OpenID Connect provider, or the demo people outside production) and sign-out."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.portal import services as sl
from services.portal.domain.navigation import may_sign_in
from services.portal.domain.redirects import safe_next
from services.portal.oidc import SignInFailed
from services.portal.pages.common import (COOKIE, MESSAGES, ctx_of, render, set_session_cookie, signed_in, token_expiry)
from tovholder.auth import issue_dev_token
from tovholder.errors import TovholderError

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------- sign-in and sign-out


def _demo_people() -> dict[str, list[dict[str, Any]]]:
    from tovholder.demo import demo_data

    data = demo_data()
    homes = {b["id"]: b["name"] for b in data["botilbud"]}
    staff = [{**s, "botilbud_name": homes.get(s.get("botilbud") or "", "")} for s in data["staff"]]
    citizens = [{"sub": c["citizen_id"], "name": c["name"], "role": "citizen", "botilbud": c["botilbud"],
                 "botilbud_name": homes.get(c["botilbud"], "")} for c in data["citizens"]]
    order = {"visitation": 0, "coordinator": 1, "nurse-consultant": 2, "admin": 3}
    staff.sort(key=lambda s: (s["botilbud_name"], order.get(s["role"], 9), s["name"]))
    # One citizen per botilbud is enough to try the citizen's side.
    first_citizens = list({c["botilbud"]: c for c in reversed(citizens)}.values())[::-1]
    return {"staff": staff, "citizens": first_citizens}


def sign_in_page(request: Request, status_code: int = 200, *, besked: str | None = None,
                 fejl: str | None = None) -> HTMLResponse:
    ctx = ctx_of(request)
    nonce = ctx.login.login_nonce(request)
    naeste = safe_next(request.query_params.get("naeste"))
    response = render(request, "sign_in.html", status_code, user=None, besked=MESSAGES.get(besked or ""), fejl=fejl,
                      login_csrf=ctx.login.login_csrf(nonce), naeste=naeste, oidc=ctx.oidc is not None,
                      demo=_demo_people() if ctx.demo_sign_in else None)
    ctx.login.keep_login_nonce(response, nonce)
    return response


@router.get("/logind", response_class=HTMLResponse)
async def sign_in(request: Request, besked: str | None = None) -> Response:
    user = await signed_in(request)
    if user is not None:
        return RedirectResponse(safe_next(request.query_params.get("naeste")), status_code=303)
    return sign_in_page(request, besked=besked)


def redirect_uri(request: Request) -> str:
    public = ctx_of(request).config.public_url
    base = public.rstrip("/") if public else str(request.base_url).rstrip("/")
    return f"{base}/logind/svar"


@router.get("/logind/kommune")
async def sign_in_with_provider(request: Request, naeste: str | None = None) -> Response:
    """Off to the identity provider (a link, not a form: the state, PKCE and nonce protect the answer)."""
    ctx = ctx_of(request)
    if ctx.oidc is None:
        return sign_in_page(request, 404, fejl="Kommunens login er ikke sat op her.")
    try:
        auth = await ctx.oidc.authorization_request(redirect_uri(request))
    except SignInFailed as failure:
        log.warning("sign-in could not start: %s", failure.reason)
        return sign_in_page(request, 503, fejl=failure.message)
    async with ctx.uow() as uow:
        await sl.begin_sign_in(uow, ctx.box, state=auth.state, code_verifier=auth.code_verifier, nonce=auth.nonce,
                               next_path=safe_next(naeste))
    return RedirectResponse(auth.url, status_code=303)


@router.get("/logind/svar")
async def provider_answer(request: Request, code: str | None = None, state: str | None = None,
                          error: str | None = None) -> Response:
    ctx = ctx_of(request)
    if ctx.oidc is None:
        return sign_in_page(request, 404, fejl="Kommunens login er ikke sat op her.")
    async with ctx.uow() as uow:
        pending = await sl.take_sign_in(uow, ctx.box, state)
    if pending is None:
        return sign_in_page(request, 400, fejl="Login-forsøget er for gammelt eller ukendt; prøv igen.")
    if error or not code:
        return sign_in_page(request, 401, fejl="Login blev afbrudt hos kommunens login; prøv igen.")
    try:
        tokens = await ctx.oidc.exchange(code=code, code_verifier=pending.code_verifier,
                                         redirect_uri=redirect_uri(request), nonce=pending.nonce)
        principal = ctx.verifier.verify(tokens.access_token)
    except SignInFailed as failure:
        log.warning("sign-in refused: %s", failure.reason)
        return sign_in_page(request, 401, fejl=failure.message)
    except TovholderError as refusal:
        log.warning("sign-in refused: the access token is not accepted (%s)", refusal.code)
        return sign_in_page(request, 401, fejl="Login mislykkedes: dit login giver ikke adgang til Tovholder.")
    if principal.sub != tokens.id_claims.get("sub"):
        return sign_in_page(request, 401, fejl="Login mislykkedes: svaret fra kommunens login hang ikke sammen.")
    if not may_sign_in(principal.role):
        return sign_in_page(request, 403, fejl="Din rolle har ikke adgang til portalen.")
    if not principal.name and tokens.id_claims.get("name"):
        principal = principal.model_copy(update={"name": tokens.id_claims["name"]})
    async with ctx.uow() as uow:
        cookie = await sl.start_session(uow, ctx.box, ctx.config.session_policy, principal,
                                        access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                                        id_token=tokens.id_token, access_expires_at=token_expiry(tokens.expires_at),
                                        how="oidc")
    response = RedirectResponse(pending.next_path, status_code=303)
    set_session_cookie(request, response, cookie)
    return response


@router.post("/logind/demo")
async def demo_sign_in(request: Request, sub: str = Form(""), csrf: str = Form(None),
                       naeste: str = Form("/")) -> Response:
    ctx = ctx_of(request)
    if not ctx.demo_sign_in:
        return sign_in_page(request, 403, fejl="Demo-login findes kun på en udviklers egen maskine.")
    if not ctx.login.login_csrf_ok(request, csrf):
        return sign_in_page(request, 403, fejl=MESSAGES["forkert-formular"])
    people = _demo_people()
    person = next((p for p in people["staff"] + people["citizens"] if p["sub"] == sub), None)
    if person is None or not may_sign_in(person["role"]):
        return sign_in_page(request, 404, fejl="Ukendt demo-person.")
    token = issue_dev_token(ctx.settings, role=person["role"], sub=person["sub"], botilbud=person.get("botilbud"),
                            municipality=person.get("municipality"), name=person["name"],
                            ttl_s=int(ctx.config.session_max_hours * 3600))
    principal = ctx.verifier.verify(token)
    async with ctx.uow() as uow:
        cookie = await sl.start_session(uow, ctx.box, ctx.config.session_policy, principal, access_token=token,
                                        how="demo")
    response = RedirectResponse(safe_next(naeste), status_code=303)
    set_session_cookie(request, response, cookie)
    response.delete_cookie(ctx.login.login_cookie_name, path="/")
    return response


@router.post("/logud")
async def sign_out(request: Request, csrf: str = Form(None)) -> Response:
    ctx = ctx_of(request)
    user = await signed_in(request)
    if user is not None and not user.csrf_ok(csrf):
        return RedirectResponse("/?besked=forkert-formular", status_code=303)
    async with ctx.uow() as uow:
        id_token = await sl.end_session(uow, ctx.box, request.cookies.get(COOKIE))
    after = "/logind?besked=logget-ud"
    target = after
    if ctx.oidc is not None and user is not None:
        base = (ctx.config.public_url or str(request.base_url)).rstrip("/")
        target = await ctx.oidc.end_session_url(id_token=id_token, after=f"{base}{after}") or after
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
