"""The portal's routes: sign-in and sign-out, the pages, static files and the operational endpoints.

Thin like every ``api.py``: read the session, call one use case in ``services.py``, render a template.
Every form carries a CSRF token (the session's synchroniser token; before sign-in the kit's login
nonce, ``tovholder.page_sessions``); answers get the kit's security headers (nosniff, DENY, a CSP
without inline scripts or styles). The session cookie holds a random id only: HttpOnly, Secure,
SameSite=Lax (browsers accept Secure cookies from http://127.0.0.1 and localhost, so local use works)."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
import httpx
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.portal import services as sl
from services.portal.domain import words
from services.portal.domain.navigation import may_sign_in, screens_for
from services.portal.domain.queue import ACTIONS, DUE_CHOICES, PRIORITIES, QueueChoice, parse_choice
from services.portal.domain.redirects import safe_next
from services.portal.oidc import SignInFailed
from tovholder import metrics
from tovholder.auth import issue_dev_token
from tovholder.errors import TovholderError
from tovholder.guards import ALWAYS_HEADERS, PAGE_CSP, install_guards
from tovholder.infra_errors import is_infrastructure_error
from tovholder.telemetry import current_trace_id

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}
COOKIE = "tovholder_portal"
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                        trim_blocks=True, lstrip_blocks=True)
TEMPLATES.filters.update(dato=words.local_date, tidspunkt=words.local_datetime)
TEMPLATES.globals.update(role_label=words.role_label, status_label=words.task_status_label,
                         network_role=words.network_role_label, la2_label=words.la2_label,
                         admission_label=words.admission_label,
                         priority_label=words.priority_label, service_label=words.service_label,
                         case_status=words.case_status_label)

# Messages a redirect may ask a page to show: by key, so no text from a URL is ever shown.
MESSAGES = {
    "logget-ud": "Du er logget ud.",
    "udloebet": "Du var væk for længe, så du er logget ud. Log ind igen.",
    "log-ind": "Log ind for at fortsætte.",
    "forkert-formular": "Formularen var forældet; prøv igen.",
    **{f"opgave-{key}": message for key, (_, message) in ACTIONS.items()},
}

pages = APIRouter(include_in_schema=False)


def ctx_of(request: Request):
    return request.app.state.ctx


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    user = context.get("user")
    context.setdefault("screens", screens_for(user.principal.role) if user else ())
    context.setdefault("path", request.url.path)
    response = HTMLResponse(TEMPLATES.get_template(template).render(**context), status_code=status_code)
    response.headers["content-security-policy"] = page_csp(ctx_of(request))
    response.headers.update(ALWAYS_HEADERS)  # also on error pages, which pass no middleware
    response.headers["cache-control"] = "no-store"  # pages show personal data
    return response


def page_csp(ctx) -> str:
    """The kit's page policy; forms may also lead to the identity provider (sign-in and sign-out redirect there)."""
    if ctx.oidc is None:
        return PAGE_CSP
    issuer = urlsplit(ctx.oidc.issuer)
    return PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}")


def set_session_cookie(request: Request, response: Response, cookie: str) -> None:
    max_age = int(ctx_of(request).config.session_max_hours * 3600)
    response.set_cookie(COOKIE, cookie, max_age=max_age, httponly=True, secure=True, samesite="lax", path="/")


def to_sign_in(request: Request, message: str = "log-ind") -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = f"/logind?besked={message}"
    if request.method == "GET" and here != "/":
        target += f"&naeste={quote(safe_next(here))}"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def signed_in(request: Request) -> sl.SignedIn | None:
    """The person behind this request, with a fresh access token when the provider gave a refresh token."""
    ctx = ctx_of(request)
    async with ctx.uow() as uow:
        user = await sl.current_session(uow, ctx.box, ctx.config.session_policy, request.cookies.get(COOKIE))
        if user is None or ctx.oidc is None or not user.refresh_token or not user.access_expires_at:
            return user
        if (user.access_expires_at - sl.now_utc()).total_seconds() > 30:
            return user
        try:
            tokens = await ctx.oidc.refresh(user.refresh_token)
        except SignInFailed as failure:
            log.info("refreshing a session's token failed: %s", failure.reason)
            return user  # the services will refuse the old token, and the page signs the person out
        return await sl.renew_tokens(uow, ctx.box, user, access_token=tokens.access_token,
                                     refresh_token=tokens.refresh_token, access_expires_at=_expiry(tokens.expires_at))


def _expiry(expires_at: float | None):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(expires_at, timezone.utc) if expires_at else None


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


@pages.get("/logind", response_class=HTMLResponse)
async def sign_in(request: Request, besked: str | None = None) -> Response:
    user = await signed_in(request)
    if user is not None:
        return RedirectResponse(safe_next(request.query_params.get("naeste")), status_code=303)
    return sign_in_page(request, besked=besked)


def redirect_uri(request: Request) -> str:
    public = ctx_of(request).config.public_url
    base = public.rstrip("/") if public else str(request.base_url).rstrip("/")
    return f"{base}/logind/svar"


@pages.get("/logind/kommune")
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


@pages.get("/logind/svar")
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
                                        id_token=tokens.id_token, access_expires_at=_expiry(tokens.expires_at),
                                        how="oidc")
    response = RedirectResponse(pending.next_path, status_code=303)
    set_session_cookie(request, response, cookie)
    return response


@pages.post("/logind/demo")
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


@pages.post("/logud")
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


# ---------------------------------------------------------------- pages


@pages.get("/", response_class=HTMLResponse)
async def front_page(request: Request, besked: str | None = None) -> Response:
    user = await signed_in(request)
    if user is None:
        return to_sign_in(request)
    ctx = ctx_of(request)
    data = await sl.front_page(ctx.backends, user)
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, "front.html", user=user, besked=MESSAGES.get(besked or ""), **data)


async def expired(request: Request) -> Response:
    """A service refused the person's token (expired, or revoked): end the session, sign in again."""
    ctx = ctx_of(request)
    async with ctx.uow() as uow:
        await sl.end_session(uow, ctx.box, request.cookies.get(COOKIE))
    return to_sign_in(request, "udloebet")


# ---------------------------------------------------------------- the work queue


def _today():
    return datetime.now(words.COPENHAGEN).date()


async def _queue_context(request: Request, user: sl.SignedIn, choice: QueueChoice) -> dict[str, Any] | None:
    data = await sl.work_queue(ctx_of(request).backends, user, choice.api_params(_today()))
    if data.pop("signed_out"):
        return None
    return {**data, "choice": choice, "due_choices": DUE_CHOICES, "priorities": PRIORITIES,
            "updated": datetime.now(words.COPENHAGEN).strftime("%H:%M:%S"), "user": user,
            "poll_s": int(ctx_of(request).config.queue_poll_interval_s)}


@pages.get("/arbejdsko", response_class=HTMLResponse)
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


@pages.get("/arbejdsko/tabel", response_class=HTMLResponse)
async def work_queue_table(request: Request) -> Response:
    """The queue's table alone: what the page swaps in when the queue changed (or every poll_s)."""
    user = await signed_in(request)
    if user is None or not user.is_staff:
        return HTMLResponse("", status_code=401)
    context = await _queue_context(request, user, parse_choice(request.query_params))
    if context is None:
        return HTMLResponse("", status_code=401)
    return render(request, "_queue_table.html", **context)


@pages.get("/arbejdsko/live")
async def work_queue_live(request: Request) -> Response:
    """notifications' stream of my queue's changes, relayed (the browser never holds a token): an event
    ``queue-changed`` whenever the page would change; ``unavailable`` when notifications cannot be reached
    (the page then keeps polling)."""
    user = await signed_in(request)
    if user is None or not user.is_staff:
        return Response(status_code=401)
    params = parse_choice(request.query_params).api_params(_today())
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


@pages.post("/opgaver/{task_id}/{action}")
async def task_action(request: Request, task_id: uuid.UUID, action: str, csrf: str = Form(None),
                      note: str = Form(None), tilbage: str = Form("/arbejdsko")) -> Response:
    user = await signed_in(request)
    if user is None:
        return to_sign_in(request)
    back = safe_next(tilbage, "/arbejdsko")
    if not user.csrf_ok(csrf):
        return RedirectResponse(_with_message(back, "forkert-formular"), status_code=303)
    if action not in ACTIONS:
        return render(request, "error.html", 404, user=user, besked="Den handling findes ikke.")
    reply = await sl.task_action(ctx_of(request).backends, user, str(task_id), action, (note or "").strip() or None)
    if reply.signed_out:
        return await expired(request)
    if not reply.ok:
        choice = parse_choice(dict(_query_of(back)))
        context = await _queue_context(request, user, choice)
        if context is None:
            return await expired(request)
        return render(request, "work_queue.html", reply.status or 502, fejl=reply.problem, **context)
    return RedirectResponse(_with_message(back, f"opgave-{action}"), status_code=303)


def _query_of(path: str):
    from urllib.parse import parse_qsl

    return parse_qsl(urlsplit(path).query)


def _with_message(path: str, key: str) -> str:
    from urllib.parse import urlencode

    parts = urlsplit(path)
    kept = [(k, v) for k, v in _query_of(path) if k != "besked"]
    return f"{parts.path}?{urlencode(kept + [('besked', key)])}"


# ---------------------------------------------------------------- Borgere and Borgeroverblik


@pages.get("/borgere", response_class=HTMLResponse)
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


@pages.get("/borgere/{citizen_id}/maerker", response_class=HTMLResponse)
async def citizen_badges(request: Request, citizen_id: uuid.UUID) -> Response:
    """One card's badges (the list asks for them when the card comes into view)."""
    user = await signed_in(request)
    if user is None or not user.is_staff:
        return HTMLResponse("", status_code=401)
    badges = await sl.citizen_badges(ctx_of(request).backends, user, str(citizen_id))
    return render(request, "_badges.html", user=user, c=badges)


@pages.get("/borgere/{citizen_id}", response_class=HTMLResponse)
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


# ---------------------------------------------------------------- visitation


@pages.get("/visitation", response_class=HTMLResponse)
async def cases(request: Request, status: str = "", foer: str = "") -> Response:
    user = await signed_in(request)
    if user is None:
        return to_sign_in(request)
    if user.principal.role not in ("visitation", "admin"):
        return render(request, "error.html", 403, user=user, besked="Sagerne er for visitationen.")
    status = status if status in words.CASE_STATUS_LABELS else ""
    data = await sl.case_list(ctx_of(request).backends, user, status=status or None, before=foer[:40] or None)
    if data.pop("signed_out"):
        return await expired(request)
    return render(request, "cases.html", user=user, status=status, foer=foer[:40],
                  statuses=words.CASE_STATUS_LABELS, **data)


# ---------------------------------------------------------------- static files and operations


@pages.get("/static/{path:path}")
async def static_file(path: str) -> Response:
    target = (STATIC / path).resolve()
    if STATIC.resolve() not in target.parents or not target.is_file() or target.suffix not in STATIC_TYPES:
        return HTMLResponse("Ikke fundet.", status_code=404)
    cache = "public, max-age=86400, immutable" if path.startswith("vendor/") else "public, max-age=300"
    return FileResponse(target, media_type=STATIC_TYPES[target.suffix], headers={"Cache-Control": cache})


@pages.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive", "service": "portal"}


@pages.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready = the portal's own database answers. The four services are not checked here: a service that
    is down costs its part of a page, not the portal's readiness."""
    try:
        async with ctx_of(request).engine.connect() as conn:
            await metrics.await_at_most(conn.execute(text("SELECT 1")), 0.8)
        state = "ok"
    except Exception as error:  # noqa: BLE001 - reported: this is the health answer
        state = f"unavailable ({type(error).__name__})"
    ready = state == "ok"
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": {"database": state}},
                        status_code=200 if ready else 503)


@pages.get("/metrics")
async def prometheus_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


def install(app: FastAPI, provider) -> None:
    ctx = app.state.ctx
    install_guards(app, ctx.settings, ctx.verifier)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "Siden findes ikke." if exc.status_code == 404 else "Forespørgslen kunne ikke gennemføres."
        if exc.status_code == 405:
            message = "Den handling findes ikke her."
        return render(request, "error.html", exc.status_code, user=None, besked=message)

    @app.exception_handler(Exception)
    async def failure(request: Request, exc: Exception) -> Response:
        if is_infrastructure_error(exc):
            log.warning("portal dependency unavailable during %s %s: %s", request.method, request.url.path,
                        type(exc).__name__)
            return render(request, "error.html", 503, user=None,
                          besked="Portalen kan ikke nå sin database lige nu; intet er ændret. Prøv igen om lidt.")
        log.exception("unexpected error during %s %s", request.method, request.url.path)
        return render(request, "error.html", 500, user=None,
                      besked=f"Der skete en fejl hos os; intet er ændret. Reference: {current_trace_id() or 'ingen'}.")

    app.include_router(pages)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics,static")
