"""Server-rendered staff pages (Jinja2, no front-end build): log in, my work queue with live updates
(short polling of a fragment), claim and complete, the citizen's timeline and the visitation board.

Danish UI. Every control has a label; everything works by keyboard and without JavaScript (the
script, a static file, only refreshes the queue). The login is a page session of this service
(``tovholder.page_sessions``: an encrypted HttpOnly, SameSite=Strict cookie no other service
honours); every form, the login and logout forms included, carries a CSRF token."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.notifications import services as sl
from services.notifications.main import Config
from services.notifications.domain.clock import LOCAL_TZ
from services.notifications.domain.errors import InvalidInput
from services.notifications.domain.queue import parse_filter
from services.notifications.domain.tasks import KIND_LABELS_DA, Priority, TaskKind, TaskStatus
from tovholder.access import STAFF_ROLES
from tovholder.auth import InvalidToken, Principal, issue_dev_token
from tovholder.errors import TovholderError
from tovholder.page_sessions import PageSession, page_sessions
from tovholder.scopes import serving_municipality
from tovholder.service import UoW

pages = APIRouter(include_in_schema=False)
HERE = Path(__file__).parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

ROLE_LABELS = {"visitation": "Visitation", "coordinator": "Koordinator", "nurse-consultant": "Sygeplejekonsulent",
               "admin": "Administrator"}


def _local(value: datetime | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    return value.astimezone(LOCAL_TZ).strftime(fmt) if value else "–"


TEMPLATES.filters["lokal"] = _local
TEMPLATES.globals.update(
    status_label=lambda s: TaskStatus(s).label_da if s in TaskStatus._value2member_map_ else s,
    priority_label=lambda p: Priority(p).label_da if p in Priority._value2member_map_ else p,
    role_label=lambda r: ROLE_LABELS.get(r, r),
    kinds=[(k.value, KIND_LABELS_DA[k]) for k in TaskKind],
)


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=status_code)


def _session(request: Request) -> PageSession | None:
    """The logged-in staff member's page session (None: show the login page)."""
    session = page_sessions(request).read(request)
    return session if session is not None and session.principal.role in STAFF_ROLES else None


def _to_login(request: Request, reason: str | None = None) -> RedirectResponse:
    target = "/login" + (f"?besked={quote(reason)}" if reason else "")
    return RedirectResponse(target, status_code=303)


# The pages' script and styles are files next to this module (the Content-Security-Policy allows no
# inline script or style; package data ships *.css and *.js).
STATIC_FILES = {"pages.css": "text/css", "work_queue.js": "text/javascript"}


@pages.get("/static/{name}")
async def static_file(name: str) -> Response:
    if name not in STATIC_FILES:
        return HTMLResponse("Ikke fundet.", status_code=404)
    return FileResponse(HERE / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "public, max-age=300"})


# ---------------------------------------------------------------- login


def _demo_staff(request: Request) -> list[dict[str, Any]]:
    """The demo staff the login page offers: only while developing, and only these can log in by demo."""
    if request.app.state.ctx.settings.environment != "development":
        return []
    from tovholder.demo import demo_data

    return [s for s in demo_data()["staff"] if s["role"] in ("coordinator", "nurse-consultant", "visitation")][:12]


def _login_page(request: Request, status_code: int = 200, besked: str | None = None) -> HTMLResponse:
    sessions = page_sessions(request)
    nonce = sessions.login_nonce(request)
    response = render("login.html", status_code, besked=besked, demo_staff=_demo_staff(request), user=None,
                      login_csrf=sessions.login_csrf(nonce))
    sessions.keep_login_nonce(response, nonce)
    return response


def _logged_in(request: Request, token: str) -> Response:
    response = RedirectResponse("/", status_code=303)
    page_sessions(request).start(response, token)
    return response


FORGED_LOGIN = "Log ind-formularen var forældet; prøv igen."


@pages.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, besked: str | None = None) -> HTMLResponse:
    return _login_page(request, besked=besked)


@pages.post("/login")
async def login(request: Request, token: str = Form(""), csrf: str = Form(None)) -> Response:
    if not page_sessions(request).login_csrf_ok(request, csrf):
        return _login_page(request, 403, FORGED_LOGIN)
    token = token.strip()
    try:
        principal = request.app.state.ctx.verifier.verify(token) if token else None
    except InvalidToken as error:
        return _login_page(request, 401, f"Log ind mislykkedes: {error.message_da}")
    if principal is None:
        return _login_page(request, 422, "Indsæt din adgangsnøgle (token).")
    if principal.role not in STAFF_ROLES:
        return _login_page(request, 403, "Siderne er for medarbejdere; din rolle har ikke adgang.")
    return _logged_in(request, token)


@pages.post("/login/demo")
async def demo_login(request: Request, sub: str = Form(""), csrf: str = Form(None)) -> Response:
    if request.app.state.ctx.settings.environment != "development":
        return _login_page(request, 403, "Demo-login findes kun på en udviklers egen maskine.")
    if not page_sessions(request).login_csrf_ok(request, csrf):
        return _login_page(request, 403, FORGED_LOGIN)
    staff = next((s for s in _demo_staff(request) if s["sub"] == sub), None)
    if staff is None:
        return _login_page(request, 404, "Ukendt demo-medarbejder.")
    token = issue_dev_token(request.app.state.ctx.settings, role=staff["role"], sub=staff["sub"],
                            botilbud=staff.get("botilbud"), name=staff.get("name"))
    return _logged_in(request, token)


@pages.post("/logout")
async def logout(request: Request, csrf: str = Form(None)) -> Response:
    session = page_sessions(request).read(request)
    if session is not None and not page_sessions(request).csrf_ok(session, csrf):
        return RedirectResponse("/?fejl=" + quote("Formularen var forældet; prøv igen."), status_code=303)
    response = RedirectResponse("/login?besked=" + quote("Du er logget ud."), status_code=303)
    page_sessions(request).end(response)
    return response


# ---------------------------------------------------------------- my work queue


async def _queue_context(request: Request, user: Principal, uow, params: dict[str, Any]) -> dict[str, Any]:
    filter_params = {k: params.get(k) or None for k in ("kind", "overdue", "citizen_id", "due_before", "due_after", "cursor")}
    filter_error = None
    try:
        queue_filter = parse_filter(filter_params)
    except InvalidInput as error:
        filter_error, queue_filter = str(error), parse_filter({})
    overview = await sl.queue_overview(uow, user, queue_filter, notices=5)
    tasks = overview["tasks"]
    return {
        "tasks": tasks, "next_cursor": overview["next_cursor"], "filters": filter_params, "filter_error": filter_error,
        "notices": overview["notices"], "user": user,
        "fingerprint": hashlib.sha256(repr([(t["task_id"], t["status"], t["owner"]) for t in tasks]).encode()).hexdigest()[:16],
    }


@pages.get("/", response_class=HTMLResponse)
async def my_queue(request: Request, uow: UoW, config: Config, besked: str | None = None,
                   fejl: str | None = None) -> Response:
    session = _session(request)
    if session is None:
        return _to_login(request)
    context = await _queue_context(request, session.principal, uow, dict(request.query_params))
    return render("work_queue.html", besked=besked, fejl=fejl, csrf=session.csrf,
                  poll_ms=int(config.page_poll_interval_s * 1000), query=str(request.url.query), **context)


@pages.get("/fragmenter/arbejdsko", response_class=HTMLResponse)
async def queue_fragment(request: Request, uow: UoW) -> Response:
    session = _session(request)
    if session is None:
        return HTMLResponse("", status_code=401)
    context = await _queue_context(request, session.principal, uow, dict(request.query_params))
    response = render("_queue_table.html", csrf=session.csrf, **context)
    response.headers["X-Queue-Fingerprint"] = context["fingerprint"]
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.post("/opgaver/{task_id}/{action}")
async def task_action(request: Request, task_id: uuid.UUID, action: str, uow: UoW, config: Config,
                      csrf: str = Form(None), note: str = Form(None)) -> Response:
    session = _session(request)
    if session is None:
        return _to_login(request, "Log ind igen.")
    actions = {"tag": ("claim", "Du har taget opgaven."), "start": ("start", "Opgaven er sat i gang."),
               "udfoer": ("complete", "Opgaven er udført."), "laeg-tilbage": ("release", "Opgaven er lagt tilbage i puljen.")}
    if action not in actions:
        return RedirectResponse("/?fejl=" + quote("Ukendt handling."), status_code=303)
    if not page_sessions(request).csrf_ok(session, csrf):
        return RedirectResponse("/?fejl=" + quote("Formularen var forældet; prøv igen."), status_code=303)
    kind, message = actions[action]
    try:
        await sl.change_task(uow, session.principal, task_id, kind, config=config, note=(note or None))
    except TovholderError as error:
        return RedirectResponse(_back_to(request, fejl=error.message), status_code=303)
    return RedirectResponse(_back_to(request, besked=message), status_code=303)


# A path of this site: one slash, then no slash or backslash (browsers read "//x" and "/\\x" as
# another host), and nothing a browser would strip or reinterpret.
_OWN_PATH = re.compile(r"/(?![/\\])[^\\\x00-\x20\x7f]*")


def _back_to(request: Request, **message: str) -> str:
    """The page the form was on, as a relative path of this site (never another origin), with the old
    message replaced by the new one; "/" when the Referer is missing or names anywhere else."""
    query = list(message.items())
    referer = urlsplit(request.headers.get("referer") or "")
    own = urlsplit(str(request.base_url))
    # The scheme may differ behind a TLS-terminating proxy; only the path is ever used.
    same_origin = referer.scheme in ("http", "https") and referer.netloc == own.netloc
    if not same_origin or not _OWN_PATH.fullmatch(referer.path):
        return "/?" + urlencode(query)
    kept = [(k, v) for k, v in parse_qsl(referer.query) if k not in ("besked", "fejl")]
    return referer.path + "?" + urlencode(kept + query)


# ---------------------------------------------------------------- citizen timeline


@pages.get("/borgere/{citizen_id}", response_class=HTMLResponse)
async def citizen_page(request: Request, citizen_id: uuid.UUID, uow: UoW) -> Response:
    session = _session(request)
    if session is None:
        return _to_login(request)
    user = session.principal
    try:
        overview = await sl.citizen_overview(uow, user, citizen_id,
                                             serving=serving_municipality(request.app.state.ctx.settings))
    except TovholderError as error:
        return render("error.html", error.status_code, user=user, besked=error.message, csrf=session.csrf)
    return render("citizen.html", user=user, csrf=session.csrf, c=overview)


# ---------------------------------------------------------------- visitation board


@pages.get("/visitation", response_class=HTMLResponse)
async def board_page(request: Request, uow: UoW) -> Response:
    session = _session(request)
    if session is None:
        return _to_login(request)
    user = session.principal
    try:
        board = await sl.visitation_board(uow, user, serving=serving_municipality(request.app.state.ctx.settings))
    except TovholderError as error:
        return render("error.html", error.status_code, user=user, besked=error.message, csrf=session.csrf)
    return render("board.html", user=user, csrf=session.csrf, board=board,
                  updated=datetime.now(timezone.utc))
