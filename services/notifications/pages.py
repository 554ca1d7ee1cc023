"""Server-rendered staff pages (Jinja2, no front-end build): log in, my work queue with live updates
(short polling of a fragment), claim and complete, the citizen's timeline and the visitation board.

Danish UI. Every control has a label; everything works by keyboard and without JavaScript (the
script only refreshes the queue). The token sits in an HttpOnly, SameSite=Strict cookie; forms also
carry a CSRF token derived from it."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.notifications import service_layer as sl
from services.notifications.config import Config
from services.notifications.domain.clock import LOCAL_TZ
from services.notifications.domain.errors import InvalidInput
from services.notifications.domain.queue import parse_filter
from services.notifications.domain.tasks import KIND_LABELS_DA, Priority, TaskKind, TaskStatus
from tovholder.auth import STAFF_ROLES, TOKEN_COOKIE, Principal, issue_dev_token
from tovholder.errors import TovholderError
from tovholder.service import UoW

pages = APIRouter(include_in_schema=False)
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
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


def csrf_token(token: str) -> str:
    return hashlib.sha256(f"csrf:{token}".encode()).hexdigest()[:32]


def _user(request: Request) -> tuple[Principal | None, str | None]:
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None, None
    try:
        principal = request.app.state.ctx.verifier.verify(token)
    except TovholderError:
        return None, None
    return (principal, token) if principal.role in STAFF_ROLES else (None, None)


def _to_login(request: Request, reason: str | None = None) -> RedirectResponse:
    target = "/login" + (f"?besked={quote(reason)}" if reason else "")
    return RedirectResponse(target, status_code=303)


def _check_csrf(token: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(csrf_token(token), submitted)


# ---------------------------------------------------------------- login


@pages.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, besked: str | None = None) -> HTMLResponse:
    settings = request.app.state.ctx.settings
    demo_staff: list[dict[str, Any]] = []
    if not settings.is_production:
        from tovholder.demo import demo_data

        demo_staff = [s for s in demo_data()["staff"] if s["role"] in ("coordinator", "nurse-consultant", "visitation")][:12]
    return render("login.html", besked=besked, demo_staff=demo_staff, user=None)


@pages.post("/login")
async def login(request: Request, token: str = Form("")) -> Response:
    token = token.strip()
    try:
        principal = request.app.state.ctx.verifier.verify(token) if token else None
    except TovholderError as error:
        return render("login.html", 401, besked=f"Log ind mislykkedes: {error.message}", demo_staff=[], user=None)
    if principal is None:
        return render("login.html", 422, besked="Indsæt din adgangsnøgle (token).", demo_staff=[], user=None)
    if principal.role not in STAFF_ROLES:
        return render("login.html", 403, besked="Siderne er for medarbejdere; din rolle har ikke adgang.", demo_staff=[], user=None)
    return _with_cookie(request, RedirectResponse("/", status_code=303), token)


@pages.post("/login/demo")
async def demo_login(request: Request, sub: str = Form(...)) -> Response:
    settings = request.app.state.ctx.settings
    if settings.is_production:
        return render("login.html", 403, besked="Demo-login findes ikke i produktion.", demo_staff=[], user=None)
    from tovholder.demo import demo_data

    staff = next((s for s in demo_data()["staff"] if s["sub"] == sub), None)
    if staff is None:
        return render("login.html", 404, besked="Ukendt demo-medarbejder.", demo_staff=[], user=None)
    token = issue_dev_token(settings, role=staff["role"], sub=staff["sub"], botilbud=staff.get("botilbud"),
                            name=staff.get("name"))
    return _with_cookie(request, RedirectResponse("/", status_code=303), token)


def _with_cookie(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.ctx.settings.is_production, max_age=12 * 3600, path="/")
    return response


@pages.post("/logout")
async def logout() -> Response:
    response = RedirectResponse("/login?besked=Du%20er%20logget%20ud.", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return response


# ---------------------------------------------------------------- my work queue


async def _queue_context(request: Request, user: Principal, uow, params: dict[str, Any]) -> dict[str, Any]:
    filter_params = {k: params.get(k) or None for k in ("kind", "overdue", "citizen_id", "due_before", "due_after", "cursor")}
    filter_error = None
    try:
        queue_filter = parse_filter(filter_params)
    except InvalidInput as error:
        filter_error, queue_filter = str(error), parse_filter({})
    page = await sl.read_work_queue(uow, user, queue_filter)
    now = sl.now_utc()
    tasks = [sl.task_json(row, now) for row in page.rows]
    notices = await sl.my_notices(uow, user, None, limit=5)
    names = await sl.citizen_names(uow, {row.citizen_id for row in page.rows if row.citizen_id})
    for task in tasks:
        task["citizen_name"] = names.get(task["citizen_id"])
    return {
        "tasks": tasks, "next_cursor": page.next_cursor, "filters": filter_params, "filter_error": filter_error,
        "notices": notices, "user": user,
        "fingerprint": hashlib.sha256(repr([(t["task_id"], t["status"], t["owner"]) for t in tasks]).encode()).hexdigest()[:16],
    }


@pages.get("/", response_class=HTMLResponse)
async def my_queue(request: Request, uow: UoW, config: Config, besked: str | None = None,
                   fejl: str | None = None) -> Response:
    user, token = _user(request)
    if user is None:
        return _to_login(request)
    context = await _queue_context(request, user, uow, dict(request.query_params))
    return render("work_queue.html", besked=besked, fejl=fejl, csrf=csrf_token(token),
                  poll_ms=int(config.page_poll_interval_s * 1000), query=str(request.url.query), **context)


@pages.get("/fragmenter/arbejdsko", response_class=HTMLResponse)
async def queue_fragment(request: Request, uow: UoW) -> Response:
    user, token = _user(request)
    if user is None:
        return HTMLResponse("", status_code=401)
    context = await _queue_context(request, user, uow, dict(request.query_params))
    response = render("_queue_table.html", csrf=csrf_token(token), **context)
    response.headers["X-Queue-Fingerprint"] = context["fingerprint"]
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.post("/opgaver/{task_id}/{action}")
async def task_action(request: Request, task_id: uuid.UUID, action: str, uow: UoW, config: Config,
                      csrf: str = Form(None), note: str = Form(None)) -> Response:
    user, token = _user(request)
    if user is None:
        return _to_login(request, "Log ind igen.")
    actions = {"tag": ("claim", "Du har taget opgaven."), "start": ("start", "Opgaven er sat i gang."),
               "udfoer": ("complete", "Opgaven er udført."), "laeg-tilbage": ("release", "Opgaven er lagt tilbage i puljen.")}
    if action not in actions:
        return RedirectResponse("/?fejl=" + quote("Ukendt handling."), status_code=303)
    if not _check_csrf(token, csrf):
        return RedirectResponse("/?fejl=" + quote("Formularen var forældet; prøv igen."), status_code=303)
    kind, message = actions[action]
    try:
        await sl.change_task(uow, user, task_id, kind, config=config, note=(note or None))
    except TovholderError as error:
        return RedirectResponse(_back_to(request, fejl=error.message), status_code=303)
    return RedirectResponse(_back_to(request, besked=message), status_code=303)


def _back_to(request: Request, **message: str) -> str:
    """The page the form was on (same origin only), with the old message replaced by the new one."""
    referer = urlsplit(request.headers.get("referer") or "/")
    own = urlsplit(str(request.base_url))
    if referer.netloc and referer.netloc != own.netloc:
        return "/?" + urlencode(message)
    query = [(k, v) for k, v in parse_qsl(referer.query) if k not in ("besked", "fejl")] + list(message.items())
    return (referer.path or "/") + "?" + urlencode(query)


# ---------------------------------------------------------------- citizen timeline


@pages.get("/borgere/{citizen_id}", response_class=HTMLResponse)
async def citizen_page(request: Request, citizen_id: uuid.UUID, uow: UoW) -> Response:
    user, token = _user(request)
    if user is None:
        return _to_login(request)
    try:
        overview = await sl.citizen_overview(uow, user, citizen_id)
    except TovholderError as error:
        return render("error.html", error.status_code, user=user, besked=error.message, csrf=csrf_token(token))
    return render("citizen.html", user=user, csrf=csrf_token(token), c=overview)


# ---------------------------------------------------------------- visitation board


@pages.get("/visitation", response_class=HTMLResponse)
async def board_page(request: Request, uow: UoW) -> Response:
    user, token = _user(request)
    if user is None:
        return _to_login(request)
    try:
        board = await sl.visitation_board(uow, user)
    except TovholderError as error:
        return render("error.html", error.status_code, user=user, besked=error.message, csrf=csrf_token(token))
    return render("board.html", user=user, csrf=csrf_token(token), board=board,
                  updated=datetime.now(timezone.utc))
